{%- set payload_keys = [
    'messageId', 'organisationId', 'userId', 'eventUserType', 'eventVersion', 'messageType',
    'messageLength', 'countAttachment', 'hasError', 'productOrigin', 'sourceType',
] -%}

with source as (

    select * from {{ source('raw', 'EVENT') }}

),

parsed as (

    -- The payload parsed once per row; final reads its keys.
    select
        *,
        {{ json_object_record('PAYLOAD', payload_keys) }} as payload_record
    from source

),

final as (

    select
        {{ raw_load_lineage() }},
        {{ raw_to_text('EVENT_NAME') }} as event_name,
        {{ raw_to_text('EVENT_TIMESTAMP') }} as event_timestamp_text,
        {{ raw_to_timestamp('EVENT_TIMESTAMP') }} as event_timestamp,
        {{ raw_payload_columns('payload_record') }},
        {{ json_record_text('payload_record', 'messageId') }} as message_id,
        {{ dbt.safe_cast(json_record_text('payload_record', 'organisationId'), dbt.type_bigint()) }} as organisation_id,
        {{ dbt.safe_cast(json_record_text('payload_record', 'userId'), dbt.type_bigint()) }} as user_id,
        {{ json_record_text('payload_record', 'eventUserType') }} as event_user_type,
        {{ dbt.safe_cast(json_record_text('payload_record', 'eventVersion'), dbt.type_bigint()) }} as event_version,
        {{ json_record_text('payload_record', 'messageType') }} as message_type,
        {{ dbt.safe_cast(json_record_text('payload_record', 'messageLength'), dbt.type_bigint()) }} as message_length,
        {{ dbt.safe_cast(json_record_text('payload_record', 'countAttachment'), dbt.type_bigint()) }} as count_attachment,
        {{ dbt.safe_cast(json_record_text('payload_record', 'hasError'), dbt.type_boolean()) }} as has_error,
        {{ json_record_text('payload_record', 'productOrigin') }} as product_origin,
        {{ json_record_text('payload_record', 'sourceType') }} as source_type
    from parsed

)

select * from final
