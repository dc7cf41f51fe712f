{#
    Personal data never reaches "04_PRESENTATION": the raw text a quarantined row carries
    (a USER payload, a malformed CSV line) has the value of every personal key replaced
    by ***REDACTED***. By pattern, not by parsing, because a quarantined payload or line
    is often not valid JSON. Two spellings of a key are matched: JSON ("email":"a@b") and
    the same JSON inside a CSV field, quotes doubled (""email"":""a@b""). A string
    value that never closes is redacted to the end of the text. Keys match in any case.
#}

{% macro personal_keys() -%}
    {{ return(['email', 'firstName', 'lastName', 'applicationUserId']) }}
{%- endmacro %}

{#- (pattern, replacement) pairs, applied in order; POSIX classes only, no backreference
    and no flag (keys match in any case through [eE][mM]... classes), so one text works
    for RE2 (DuckDB), Snowflake's POSIX ERE and fakesnow's three-argument regexp_replace. -#}
{% macro personal_key_patterns(backslash_escapes=true) -%}
    {%- set spelled = [] -%}
    {%- for key in personal_keys() -%}
        {%- set letters = namespace(text='') -%}
        {%- for letter in key -%}
            {%- set letters.text = letters.text ~ '[' ~ letter.lower() ~ letter.upper() ~ ']' -%}
        {%- endfor -%}
        {%- do spelled.append(letters.text) -%}
    {%- endfor -%}
    {%- set keys = spelled | join('|') -%}
    {%- if backslash_escapes -%}
        {%- set json_value = '"(\\\\.|[^"\\\\])*"?' -%}
        {%- set csv_value = '""(\\\\""|\\\\[^"]|[^"\\\\])*("")?' -%}
    {%- else -%}
        {%- set json_value = '"[^"]*"?' -%}
        {%- set csv_value = '""[^"]*("")?' -%}
    {%- endif -%}
    {{ return([
        ('("(' ~ keys ~ ')"[[:space:]]*:[[:space:]]*)(' ~ json_value ~ '|[^",}[:space:]]+)',
         '\\1"***REDACTED***"'),
        ('(""(' ~ keys ~ ')""[[:space:]]*:[[:space:]]*)(' ~ csv_value ~ '|[^",}[:space:]]+)',
         '\\1""***REDACTED***""'),
    ]) }}
{%- endmacro %}

{% macro redact_personal_keys(text_expression) -%}
    {%- set redacted = namespace(sql=text_expression) -%}
    {#- Snowflake: no backslash in a pattern (fakesnow mistranslates escaped ones), so a
        value holding an escaped quote is redacted up to that quote only; the masking
        policy on RAW_RECORD still covers the USER rows there. -#}
    {%- for pattern, replacement in personal_key_patterns(backslash_escapes=target.type != 'snowflake') -%}
        {%- set redacted.sql = adapter.dispatch('regexp_replace_all')(redacted.sql, pattern, replacement) -%}
    {%- endfor -%}
    {{ redacted.sql }}
{%- endmacro %}

{# Every match of `pattern` in `text_sql` replaced. #}
{% macro default__regexp_replace_all(text_sql, pattern, replacement) -%}
    regexp_replace({{ text_sql }}, '{{ pattern | replace("'", "''") }}', '{{ replacement | replace("'", "''") }}', 'g')
{%- endmacro %}

{#- Snowflake string literals treat a backslash as an escape: double each one. -#}
{% macro snowflake__regexp_replace_all(text_sql, pattern, replacement) -%}
    regexp_replace({{ text_sql }}, '{{ pattern | replace("\\", "\\\\") | replace("'", "''") }}', '{{ replacement | replace("\\", "\\\\") | replace("'", "''") }}')
{%- endmacro %}
