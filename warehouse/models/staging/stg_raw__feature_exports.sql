with source as (

    select * from {{ source('raw', 'FEATURE') }}

),

parsed as (

    -- The payload parsed once per row; final reads its keys.
    select
        *,
        {{ json_object_record('PAYLOAD', ['organisationId', 'features']) }} as payload_record
    from source

),

final as (

    select
        {{ raw_load_lineage() }},
        {{ raw_export_file_columns() }},
        {{ raw_payload_columns('payload_record') }},
        {{ dbt.safe_cast(json_record_text('payload_record', 'organisationId'), dbt.type_bigint()) }} as organisation_id,
        {{ json_record_text('payload_record', 'features') }} as features_json
    from parsed

)

select * from final
