-- Dynamic masking of user names and e-mail addresses. Run after 01_setup.sql.
--
-- The models unpack no personal key of the USER payload (email, firstName, lastName),
-- but the raw payload itself travels on as text, names and addresses included. Where
-- (checked against the models by tests/warehouse/test_snowflake.py):
--   02_CLEAN.STG_RAW__USER_EXPORTS        PAYLOAD_TEXT (the raw USER payload)
--   03_MODEL.INT_USER_EXPORTS__CLASSIFIED RAW_RECORD (the raw USER row, as JSON text)
--   03_MODEL.FCT_QUARANTINE               RAW_RECORD of rows with SOURCE_TABLE = 'USER'
--   04_PRESENTATION.QUARANTINE            RAW_RECORD of rows with SOURCE_TABLE = 'USER'
-- A column named EMAIL, FIRST_NAME or LAST_NAME added to a model must be added here.
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

-- 2. Attachments. dbt replaces these views and tables on every build, which drops their
-- policies, so this section runs (as the transformer, which owns them) after every
-- `dbt build` until the models attach the policies themselves in a post-hook.
USE ROLE ACCURX_TRANSFORMER;

ALTER VIEW ACCURX."02_CLEAN".STG_RAW__USER_EXPORTS
    MODIFY COLUMN PAYLOAD_TEXT SET MASKING POLICY ACCURX.GOVERNANCE.PII_TEXT_MASK;
ALTER TABLE ACCURX."03_MODEL".INT_USER_EXPORTS__CLASSIFIED
    MODIFY COLUMN RAW_RECORD SET MASKING POLICY ACCURX.GOVERNANCE.PII_TEXT_MASK;
ALTER TABLE ACCURX."03_MODEL".FCT_QUARANTINE
    MODIFY COLUMN RAW_RECORD SET MASKING POLICY ACCURX.GOVERNANCE.PII_RAW_RECORD_MASK
    USING (RAW_RECORD, SOURCE_TABLE);
ALTER VIEW ACCURX."04_PRESENTATION".QUARANTINE
    MODIFY COLUMN RAW_RECORD SET MASKING POLICY ACCURX.GOVERNANCE.PII_RAW_RECORD_MASK
    USING (RAW_RECORD, SOURCE_TABLE);
