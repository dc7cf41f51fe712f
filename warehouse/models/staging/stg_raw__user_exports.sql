{#- Only the keys the warehouse uses: names and e-mail addresses stay in the raw layer. -#}
{%- set payload_keys = ['userId', 'organisationId', 'createdAt', 'isAdmin', 'role', 'status'] -%}

with source as (

    select * from {{ source('raw', 'USER') }}

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
        {{ raw_export_file_columns() }},
        {{ raw_payload_columns('payload_record') }},
        {{ dbt.safe_cast(json_record_text('payload_record', 'userId'), dbt.type_bigint()) }} as user_id,
        {{ dbt.safe_cast(json_record_text('payload_record', 'organisationId'), dbt.type_bigint()) }} as organisation_id,
        {{ dbt.safe_cast(json_record_text('payload_record', 'createdAt'), 'date') }} as created_at,
        {{ dbt.safe_cast(json_record_text('payload_record', 'isAdmin'), dbt.type_boolean()) }} as is_admin,
        {{ json_record_text('payload_record', 'role') }} as role,
        trim({{ json_record_text('payload_record', 'status') }}) as status
    from parsed

)

select * from final
