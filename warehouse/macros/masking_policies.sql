{#
    Masking that survives every build (Snowflake only). dbt replaces views and tables on
    each build, and a CREATE OR REPLACE drops the masking policies of their columns; so
    each model re-attaches its own in a post-hook, right after it is built, from the one
    list in var('masked_columns'). The policies themselves are created once by
    warehouse/snowflake/02_masking.sql; `python -m warehouse build --target snowflake`
    checks the attachments afterwards (warehouse/masking.py).
#}

{#
    The ALTER statements attaching `model_name`'s policies to `relation`, a view or a
    table as `materialized` says (an empty list for a model with no personal column).
#}
{% macro masking_policy_statements(relation, model_name, materialized) -%}
    {%- set statements = [] -%}
    {%- set kind = 'view' if materialized == 'view' else 'table' -%}
    {%- for item in var('masked_columns', {}).get(model_name, []) -%}
        {%- set policy = target.database ~ '.' ~ var('masking_policy_schema') ~ '.' ~ item['policy'] -%}
        {%- set using = ' using (' ~ (item['using'] | join(', ')) ~ ')' if item.get('using') else '' -%}
        {%- do statements.append(
            'alter ' ~ kind ~ ' ' ~ relation ~ ' modify column ' ~ item['column']
            ~ ' set masking policy ' ~ policy ~ using ~ ' force'
        ) -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{# Post-hook of every model: its masking statements on Snowflake, nothing on DuckDB. #}
{% macro attach_masking_policies() -%}
    {%- if target.type == 'snowflake' and execute -%}
        {%- for statement in masking_policy_statements(this, model.name, model.config.materialized) -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
