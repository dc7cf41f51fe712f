{#
    Load lineage of a raw row: which file it came from and its position there, used as
    the "first read" order of the event dedup. The embedded loader (warehouse/load.py)
    adds _FILE_ID, _SOURCE_FILE and _SOURCE_ROW to every raw table; Snowflake's raw
    tables are the ingestion's (METRICS.md section 1) and carry no such columns, so the
    dedup there falls back to the remaining sort keys.
#}
{% macro raw_load_lineage() -%}
    {{ return(adapter.dispatch('raw_load_lineage')()) }}
{%- endmacro %}

{% macro default__raw_load_lineage() -%}
    cast(_FILE_ID as {{ dbt.type_bigint() }}) as source_file_id,
    cast(_SOURCE_FILE as {{ dbt.type_string() }}) as source_file,
    cast(_SOURCE_ROW as {{ dbt.type_bigint() }}) as source_row
{%- endmacro %}

{% macro snowflake__raw_load_lineage() -%}
    cast(null as {{ dbt.type_bigint() }}) as source_file_id,
    cast(null as {{ dbt.type_string() }}) as source_file,
    cast(null as {{ dbt.type_bigint() }}) as source_row
{%- endmacro %}

{# Column definitions of the lineage columns, for creating an empty raw table. #}
{% macro raw_load_lineage_column_definitions() -%}
    {{ return(adapter.dispatch('raw_load_lineage_column_definitions')()) }}
{%- endmacro %}

{% macro default__raw_load_lineage_column_definitions() -%}
    , _FILE_ID {{ dbt.type_bigint() }}, _SOURCE_FILE {{ dbt.type_string() }}, _SOURCE_ROW {{ dbt.type_bigint() }}
{%- endmacro %}

{% macro snowflake__raw_load_lineage_column_definitions() -%}{%- endmacro %}
