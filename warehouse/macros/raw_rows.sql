{#
    What every raw row has, whichever table it comes from (EVENT, FEATURE, USER): a JSON
    PAYLOAD, staged as text plus whether it parsed.
#}

{#
    The payload columns of a staged row: the payload as text and whether it is a JSON
    object; `payload_record` is the row's json_object_record of PAYLOAD.
#}
{% macro raw_payload_columns(payload_record) -%}
    {{ raw_to_text('PAYLOAD') }} as payload_text,
    {{ payload_record }} is not null as is_valid_json
{%- endmacro %}

