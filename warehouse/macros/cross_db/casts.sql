{#
    Safe casts: a value that does not parse becomes null (and the row is quarantined by
    the model that needs it), never an error. Raw columns are text in DuckDB; in Snowflake
    they may already be typed (EVENT_TIMESTAMP timestamp_ntz, PAYLOAD variant), and
    Snowflake's TRY_ functions only accept text, hence the to_variant round trip.
#}

{# dbt's default compiles to a plain cast on DuckDB; a bad value must give null. #}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}


{% macro raw_to_text(column) -%}
    {{ return(adapter.dispatch('raw_to_text')(column)) }}
{%- endmacro %}

{% macro default__raw_to_text(column) -%}
    cast({{ column }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro snowflake__raw_to_text(column) -%}
    coalesce(as_varchar(to_variant({{ column }})), to_varchar({{ column }}))
{%- endmacro %}


{% macro raw_to_timestamp(column) -%}
    {{ return(adapter.dispatch('raw_to_timestamp')(column)) }}
{%- endmacro %}

{% macro default__raw_to_timestamp(column) -%}
    {{ dbt.safe_cast(column, dbt.type_timestamp()) }}
{%- endmacro %}

{% macro snowflake__raw_to_timestamp(column) -%}
    coalesce(
        as_timestamp_ntz(to_variant({{ column }})),
        try_to_timestamp_ntz(trim(as_varchar(to_variant({{ column }}))))
    )
{%- endmacro %}


{% macro raw_to_date(column) -%}
    {{ return(adapter.dispatch('raw_to_date')(column)) }}
{%- endmacro %}

{% macro default__raw_to_date(column) -%}
    {{ dbt.safe_cast(column, 'date') }}
{%- endmacro %}

{% macro snowflake__raw_to_date(column) -%}
    coalesce(
        as_date(to_variant({{ column }})),
        try_to_date(trim(as_varchar(to_variant({{ column }}))), 'YYYY-MM-DD')
    )
{%- endmacro %}


{% macro raw_to_bigint(column) -%}
    {{ return(adapter.dispatch('raw_to_bigint')(column)) }}
{%- endmacro %}

{% macro default__raw_to_bigint(column) -%}
    {{ dbt.safe_cast(column, dbt.type_bigint()) }}
{%- endmacro %}

{% macro snowflake__raw_to_bigint(column) -%}
    coalesce(
        as_integer(to_variant({{ column }})),
        try_to_number(trim(as_varchar(to_variant({{ column }}))))
    )
{%- endmacro %}


{# A share (0-1) as a whole percentage in text: 0.224 -> '22'. #}
{% macro percent_words(share_expression) -%}
    cast(cast(round(100 * ({{ share_expression }})) as {{ dbt.type_int() }}) as {{ dbt.type_string() }})
{%- endmacro %}
