{#
    JSON handling, the main dialect difference. The raw PAYLOAD is JSON text in the
    embedded DuckDB warehouse and a VARIANT (or text) in Snowflake; these macros accept
    either and always hand back text values, so models never see a dialect's JSON type.
#}

{# A parsed JSON object holding `keys`, or null when the text is not valid JSON or not an object. #}
{% macro json_object_record(json_value, keys) -%}
    {{ return(adapter.dispatch('json_object_record')(json_value, keys)) }}
{%- endmacro %}

{% macro default__json_object_record(json_value, keys) -%}
    case when json_valid({{ json_value }}) and json_type({{ json_value }}) = 'OBJECT' then {{ json_value }} end
{%- endmacro %}

{% macro duckdb__json_object_record(json_value, keys) -%}
    {#-
        One parse per row: json_transform into a struct of text fields (keys are
        case-sensitive). Malformed JSON makes json_transform fail, which try() turns into
        null; valid JSON is an object exactly when its first non-blank character is "{".
        (Cheaper than json_valid + json_type + json_transform: three parses.)
    -#}
    {%- set fields = [] -%}
    {%- for key in keys -%}{%- do fields.append('"' ~ key ~ '":"VARCHAR"') -%}{%- endfor -%}
    case
        when left(ltrim({{ json_value }}), 1) = '{'
            then try(json_transform({{ json_value }}, '{{ "{" ~ fields | join(",") ~ "}" }}'))
    end
{%- endmacro %}

{% macro snowflake__json_object_record(json_value, keys) -%}
    {%- set parsed -%}
        coalesce(
            iff(is_object(to_variant({{ json_value }})), to_variant({{ json_value }}), null),
            try_parse_json(as_varchar(to_variant({{ json_value }})))
        )
    {%- endset -%}
    iff(is_object({{ parsed }}), {{ parsed }}, null)
{%- endmacro %}


{# The text of one key of a record from json_object_record (null when absent or JSON null). #}
{% macro json_record_text(record, key) -%}
    {{ return(adapter.dispatch('json_record_text')(record, key)) }}
{%- endmacro %}

{% macro default__json_record_text(record, key) -%}
    json_extract_string({{ record }}, '$."{{ key }}"')
{%- endmacro %}

{% macro duckdb__json_record_text(record, key) -%}
    struct_extract({{ record }}, '{{ key }}')
{%- endmacro %}

{% macro snowflake__json_record_text(record, key) -%}
    {#- A path cast to varchar: a string comes unquoted, a JSON null as SQL null. -#}
    {{ record }}:"{{ key }}"::varchar
{%- endmacro %}


{# The text of one key of a JSON value (an array element from json_array_elements). #}
{% macro json_value_text(json_value, key) -%}
    {{ return(adapter.dispatch('json_value_text')(json_value, key)) }}
{%- endmacro %}

{% macro default__json_value_text(json_value, key) -%}
    json_extract_string({{ json_value }}, '$."{{ key }}"')
{%- endmacro %}

{% macro snowflake__json_value_text(json_value, key) -%}
    {{ json_value }}:"{{ key }}"::varchar
{%- endmacro %}


{#
    A join clause (put it right after a FROM item) yielding one row per element of the
    JSON array held as text in `json_array_text`; no row when it is null or not an array.
    Read the element with json_array_element(alias) and its 1-based position with
    json_array_index(alias).
#}
{% macro json_array_elements(json_array_text, alias) -%}
    {{ return(adapter.dispatch('json_array_elements')(json_array_text, alias)) }}
{%- endmacro %}

{% macro default__json_array_elements(json_array_text, alias) -%}
    cross join unnest(json_extract({{ json_array_text }}, '$[*]')) with ordinality as {{ alias }}(element, element_index)
{%- endmacro %}

{% macro snowflake__json_array_elements(json_array_text, alias) -%}
    , lateral flatten(
        input => iff(is_array(try_parse_json({{ json_array_text }})), try_parse_json({{ json_array_text }}), null)
    ) as {{ alias }}
{%- endmacro %}

{% macro json_array_element(alias) -%}
    {{ return(adapter.dispatch('json_array_element')(alias)) }}
{%- endmacro %}

{% macro default__json_array_element(alias) -%}{{ alias }}.element{%- endmacro %}

{% macro snowflake__json_array_element(alias) -%}{{ alias }}.value{%- endmacro %}

{% macro json_array_index(alias) -%}
    {{ return(adapter.dispatch('json_array_index')(alias)) }}
{%- endmacro %}

{% macro default__json_array_index(alias) -%}{{ alias }}.element_index{%- endmacro %}

{% macro snowflake__json_array_index(alias) -%}({{ alias }}.index + 1){%- endmacro %}


{# JSON text of an object built from (key, expression) pairs; nulls are kept. #}
{% macro json_object_text(pairs) -%}
    {{ return(adapter.dispatch('json_object_text')(pairs)) }}
{%- endmacro %}

{% macro default__json_object_text(pairs) -%}
    cast(json_object({% for key, expression in pairs %}'{{ key }}', {{ expression }}{% if not loop.last %}, {% endif %}{% endfor %}) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro snowflake__json_object_text(pairs) -%}
    to_json(object_construct_keep_null({% for key, expression in pairs %}'{{ key }}', {{ expression }}{% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}
