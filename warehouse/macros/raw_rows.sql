{#
    What every raw row has, whichever table it comes from (EVENT, FEATURE, USER): a JSON
    PAYLOAD, staged as text plus whether it parsed, and, once quarantined, a raw record
    of its raw columns for the quarantine view.
#}

{#
    The payload columns of a staged row: the payload as text and whether it is a JSON
    object; `payload_record` is the row's json_object_record of PAYLOAD.
#}
{% macro raw_payload_columns(payload_record) -%}
    {{ raw_to_text('PAYLOAD') }} as payload_text,
    {{ payload_record }} is not null as is_valid_json
{%- endmacro %}


{#
    The raw record of a quarantined row, as JSON text of `raw_columns`, (raw column name,
    staged text column) pairs; null for a row that passed (needs `quarantine_reason`).
#}
{% macro quarantined_raw_record(raw_columns) -%}
    case when quarantine_reason is not null then {{ json_object_text(raw_columns) }} end
{%- endmacro %}
