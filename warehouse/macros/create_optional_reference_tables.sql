{#
    on-run-start: the optional reference table ORGANISATION (METRICS.md section 1) may be
    absent; create it empty so the models read "Organisation <id>" names instead of failing.
#}
{% macro create_optional_reference_tables() -%}
    {%- set organisation = api.Relation.create(
        database=target.database, schema='01_RAW', identifier='ORGANISATION',
        quote_policy={'database': false, 'schema': true, 'identifier': true}
    ) -%}
    create table if not exists {{ organisation }} (
        ORGANISATION_ID {{ dbt.type_string() }},
        ORGANISATION_NAME {{ dbt.type_string() }},
        ODS_CODE {{ dbt.type_string() }},
        REGION {{ dbt.type_string() }}
        {{ raw_load_lineage_column_definitions() }}
    )
{%- endmacro %}

{#
    on-run-start: the lines `python -m warehouse load` could not read as CSV records
    (01_RAW._LOAD_REJECTS). Snowflake's ingestion writes no such table; create it empty
    so the quarantine reads none instead of failing.
#}
{% macro create_optional_load_rejects_table() -%}
    {%- set rejects = api.Relation.create(
        database=target.database, schema='01_RAW', identifier='_LOAD_REJECTS',
        quote_policy={'database': false, 'schema': true, 'identifier': true}
    ) -%}
    create table if not exists {{ rejects }} (
        SOURCE_TABLE {{ dbt.type_string() }},
        SOURCE_FILE {{ dbt.type_string() }},
        LINE_NUMBER {{ dbt.type_bigint() }},
        CSV_LINE {{ dbt.type_string() }},
        ERROR {{ dbt.type_string() }},
        _FILE_ID {{ dbt.type_bigint() }}
    )
{%- endmacro %}
