{# Calendar helpers. Only the ISO week start differs by dialect; the rest wraps dbt's cross-db macros. #}

{# Monday of the ISO week of a date. #}
{% macro iso_week_start(date_expression) -%}
    {{ return(adapter.dispatch('iso_week_start')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_week_start(date_expression) -%}
    cast(date_trunc('week', {{ date_expression }}) as date)
{%- endmacro %}

{% macro snowflake__iso_week_start(date_expression) -%}
    {#- date_trunc('week') depends on the session's WEEK_START; dayofweekiso does not.
        The cast keeps the type a date where dateadd is emulated (fakesnow). -#}
    cast(dateadd(day, 1 - dayofweekiso({{ date_expression }}), {{ date_expression }}) as date)
{%- endmacro %}


{# First day of the month of a date, as a date. #}
{% macro month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}


{# A date plus a number of days (or months), as a date: DuckDB's date + interval is a timestamp. #}
{% macro add_days(days, date_expression) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}

{% macro add_months(months, date_expression) -%}
    cast({{ dbt.dateadd('month', months, date_expression) }} as date)
{%- endmacro %}


{# A date as it is read aloud, "12 Sep 2026", alike on every target (no format strings). #}
{% macro spoken_date(date_expression) -%}
    cast(extract(day from {{ date_expression }}) as {{ dbt.type_string() }}) || ' '
    || case cast(extract(month from {{ date_expression }}) as {{ dbt.type_int() }})
        {%- for name in ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] %}
        when {{ loop.index }} then '{{ name }}'
        {%- endfor %}
    end
    || ' ' || cast(extract(year from {{ date_expression }}) as {{ dbt.type_string() }})
{%- endmacro %}
