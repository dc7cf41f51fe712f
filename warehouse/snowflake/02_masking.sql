-- Dynamic masking of user names and e-mail addresses. Run after 01_setup.sql.
--
-- The models unpack no personal key of the USER payload (email, firstName, lastName),
-- but the raw payload travels on as text in 02_CLEAN (STG_RAW__USER_EXPORTS.PAYLOAD_TEXT,
-- STG_RAW__LOAD_REJECTS.CSV_LINE). From 03_MODEL on, the quarantine's raw records have
-- the values of personal keys redacted by the models (warehouse/macros/personal_data.sql),
-- so no name or address reaches 04_PRESENTATION even unmasked; the masks below are the
-- second line of defence. Which column gets which policy: the dbt var masked_columns
-- (warehouse/dbt_project.yml), checked against the models by tests/warehouse/test_snowflake.py.
-- Event and feature rows carry ids only, so quarantined EVENT/FEATURE records stay
-- readable on the dashboard's data quality page.
--
-- Who sees clear text: ACCURX_PII_READER (granted to the people who need it), and
-- ACCURX_TRANSFORMER, because dbt rebuilds the 03_MODEL tables from the 02_CLEAN views
-- and would otherwise store the masked text. Everyone else, the dashboard included,
-- reads '***MASKED***'. CURRENT_ROLE() rather than IS_ROLE_IN_SESSION(): SYSADMIN
-- inherits the transformer role and must not see names through it.

-- 1. Policies and the rights to use them (once).
USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS ACCURX_PII_READER
    COMMENT = 'Reads user names and e-mail addresses in clear text';

USE ROLE SYSADMIN;

CREATE SCHEMA IF NOT EXISTS ACCURX.GOVERNANCE
    COMMENT = 'Masking policies of the ACCURX database (not built by dbt)';

CREATE MASKING POLICY IF NOT EXISTS ACCURX.GOVERNANCE.PII_TEXT_MASK
    AS (val VARCHAR) RETURNS VARCHAR ->
    CASE
        WHEN CURRENT_ROLE() IN ('ACCURX_PII_READER', 'ACCURX_TRANSFORMER') THEN val
        WHEN val IS NULL THEN NULL
        ELSE '***MASKED***'
    END
    COMMENT = 'User names, e-mail addresses and raw USER payloads or rows';

CREATE MASKING POLICY IF NOT EXISTS ACCURX.GOVERNANCE.PII_RAW_RECORD_MASK
    AS (val VARCHAR, source_table VARCHAR) RETURNS VARCHAR ->
    CASE
        WHEN CURRENT_ROLE() IN ('ACCURX_PII_READER', 'ACCURX_TRANSFORMER') THEN val
        WHEN source_table IS DISTINCT FROM 'USER' THEN val
        WHEN val IS NULL THEN NULL
        ELSE '***MASKED***'
    END
    COMMENT = 'Quarantined raw records: masked only for USER rows';

USE ROLE SECURITYADMIN;

GRANT USAGE ON SCHEMA ACCURX.GOVERNANCE TO ROLE ACCURX_TRANSFORMER;
GRANT APPLY ON MASKING POLICY ACCURX.GOVERNANCE.PII_TEXT_MASK TO ROLE ACCURX_TRANSFORMER;
GRANT APPLY ON MASKING POLICY ACCURX.GOVERNANCE.PII_RAW_RECORD_MASK TO ROLE ACCURX_TRANSFORMER;

-- 2. Attachments: made by the build itself. dbt replaces the views and tables on every
-- build, which drops their policies, so each model listed in the dbt var masked_columns
-- (warehouse/dbt_project.yml, the one list of masked columns) re-attaches its policies
-- in a post-hook right after it is built (warehouse/macros/masking_policies.sql), and
-- `python -m warehouse build --target snowflake` then checks POLICY_REFERENCES and fails
-- when a listed column, or a column of "04_PRESENTATION" named like personal data, is
-- unmasked (warehouse/masking.py). Nothing here to re-run after a build.
