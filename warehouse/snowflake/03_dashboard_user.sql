-- The dashboard's service user: key-pair authentication only (TYPE = SERVICE users
-- cannot have a password or sign in through the browser). Run after 01_setup.sql.
--
-- Before running, replace the placeholder below with the base64 body of the public key
-- (the lines between -----BEGIN PUBLIC KEY----- and -----END PUBLIC KEY-----), made as
-- in README.md. The private key never enters Snowflake or this repository: it goes to
-- the dashboard's secret store and reaches the app as SNOWFLAKE_PRIVATE_KEY_FILE.

USE ROLE USERADMIN;

CREATE USER IF NOT EXISTS ACCURX_DASHBOARD_SVC
    TYPE = SERVICE
    RSA_PUBLIC_KEY = '<RSA public key, base64 body without the BEGIN/END lines>'
    DEFAULT_ROLE = ACCURX_DASHBOARD_READER
    DEFAULT_WAREHOUSE = ACCURX_DASHBOARD_WH
    COMMENT = 'Feature analytics dashboard (read-only, key-pair auth)';

-- Key rotation without downtime: set the new key as RSA_PUBLIC_KEY_2, deploy the new
-- private key to the app, then unset the old one.
--   ALTER USER ACCURX_DASHBOARD_SVC SET RSA_PUBLIC_KEY_2 = '<new key>';
--   ALTER USER ACCURX_DASHBOARD_SVC UNSET RSA_PUBLIC_KEY;

USE ROLE SECURITYADMIN;

GRANT ROLE ACCURX_DASHBOARD_READER TO USER ACCURX_DASHBOARD_SVC;
