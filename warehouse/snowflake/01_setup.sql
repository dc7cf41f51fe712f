-- Production set-up of the ACCURX warehouse in Snowflake: database, the four layer
-- schemas, two warehouses and two roles. Run once by an administrator, top to bottom
-- (every statement is idempotent); see README.md in this folder for the order of the
-- three files and what each role may do.
--
-- Schema names start with a digit, so they are always double-quoted: ACCURX."01_RAW".

-- 1. Objects (SYSADMIN creates them, then hands the schemas to the transformer role).
USE ROLE SYSADMIN;

CREATE DATABASE IF NOT EXISTS ACCURX
    COMMENT = 'Accurx product analytics: raw exports -> dbt layers -> dashboard views';

CREATE SCHEMA IF NOT EXISTS ACCURX."01_RAW"
    COMMENT = 'Raw EVENT, FEATURE, USER (and optional ORGANISATION) tables as ingested';
CREATE SCHEMA IF NOT EXISTS ACCURX."02_CLEAN"
    COMMENT = 'dbt staging views: rename, cast, unpack JSON';
CREATE SCHEMA IF NOT EXISTS ACCURX."03_MODEL"
    COMMENT = 'dbt dim_/fct_/int_ tables: the rules of the data contract';
CREATE SCHEMA IF NOT EXISTS ACCURX."04_PRESENTATION"
    COMMENT = 'dbt views the dashboard reads; nothing else is visible to it';

-- Transforms: one daily full rebuild, a few minutes of an extra-small warehouse.
CREATE WAREHOUSE IF NOT EXISTS ACCURX_TRANSFORM_WH
    WAREHOUSE_SIZE = 'XSMALL'
    AUTO_SUSPEND = 60
    AUTO_RESUME = TRUE
    INITIALLY_SUSPENDED = TRUE
    COMMENT = 'dbt builds of the ACCURX warehouse';

-- Dashboard: small interactive queries; suspends quickly, never runs away.
CREATE WAREHOUSE IF NOT EXISTS ACCURX_DASHBOARD_WH
    WAREHOUSE_SIZE = 'XSMALL'
    AUTO_SUSPEND = 60
    AUTO_RESUME = TRUE
    INITIALLY_SUSPENDED = TRUE
    STATEMENT_TIMEOUT_IN_SECONDS = 120
    COMMENT = 'Queries of the feature analytics dashboard';

-- 2. Roles and grants (SECURITYADMIN holds MANAGE GRANTS, needed for future grants).
USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS ACCURX_TRANSFORMER
    COMMENT = 'dbt: owns the ACCURX layer schemas and everything built in them';
CREATE ROLE IF NOT EXISTS ACCURX_DASHBOARD_READER
    COMMENT = 'Read-only: the views of ACCURX."04_PRESENTATION" and nothing else';

-- Custom roles roll up to SYSADMIN so administrators can manage what they own.
GRANT ROLE ACCURX_TRANSFORMER TO ROLE SYSADMIN;
GRANT ROLE ACCURX_DASHBOARD_READER TO ROLE SYSADMIN;

-- Transformer: owns the layer schemas, reads the raw tables the ingestion writes.
GRANT USAGE ON DATABASE ACCURX TO ROLE ACCURX_TRANSFORMER;
GRANT OWNERSHIP ON SCHEMA ACCURX."01_RAW" TO ROLE ACCURX_TRANSFORMER COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA ACCURX."02_CLEAN" TO ROLE ACCURX_TRANSFORMER COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA ACCURX."03_MODEL" TO ROLE ACCURX_TRANSFORMER COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA ACCURX."04_PRESENTATION" TO ROLE ACCURX_TRANSFORMER COPY CURRENT GRANTS;
GRANT SELECT ON ALL TABLES IN SCHEMA ACCURX."01_RAW" TO ROLE ACCURX_TRANSFORMER;
GRANT SELECT ON FUTURE TABLES IN SCHEMA ACCURX."01_RAW" TO ROLE ACCURX_TRANSFORMER;
GRANT USAGE ON WAREHOUSE ACCURX_TRANSFORM_WH TO ROLE ACCURX_TRANSFORMER;

-- Dashboard reader: the database and "04_PRESENTATION" only. No grant at all on
-- "01_RAW", "02_CLEAN" or "03_MODEL": a Snowflake view runs with its owner's rights on
-- the objects it reads, so SELECT on the presentation views is all the dashboard needs.
GRANT USAGE ON DATABASE ACCURX TO ROLE ACCURX_DASHBOARD_READER;
GRANT USAGE ON SCHEMA ACCURX."04_PRESENTATION" TO ROLE ACCURX_DASHBOARD_READER;
GRANT SELECT ON ALL VIEWS IN SCHEMA ACCURX."04_PRESENTATION" TO ROLE ACCURX_DASHBOARD_READER;
-- dbt replaces every view on each build; a replaced view is a new object, which this
-- future grant covers.
GRANT SELECT ON FUTURE VIEWS IN SCHEMA ACCURX."04_PRESENTATION" TO ROLE ACCURX_DASHBOARD_READER;
GRANT USAGE ON WAREHOUSE ACCURX_DASHBOARD_WH TO ROLE ACCURX_DASHBOARD_READER;
