{#
    Layers are schemas with fixed names ("02_CLEAN", "03_MODEL", "04_PRESENTATION"):
    use the configured custom schema verbatim instead of dbt's default
    "<target schema>_<custom schema>" (which would give main_02_CLEAN).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
