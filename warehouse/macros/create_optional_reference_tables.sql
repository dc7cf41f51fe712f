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
