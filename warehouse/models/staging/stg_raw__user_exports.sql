{#- Only the keys the warehouse uses: names and e-mail addresses stay in the raw layer. -#}
{%- set payload_keys = ['userId', 'organisationId', 'createdAt', 'isAdmin', 'role', 'status'] -%}

with source as (

    select * from {{ source('raw', 'USER') }}

),

unpacked as (

    select
        {{ raw_load_lineage() }},
        {{ raw_to_text('EXPORT_DATE') }} as export_date_text,
        {{ raw_to_date('EXPORT_DATE') }} as export_date,
        {{ raw_to_text('FILENAME') }} as filename,
        {{ raw_to_text('FILE_ROW_NO') }} as file_row_no_text,
        {{ raw_to_bigint('FILE_ROW_NO') }} as file_row_no,
        {{ raw_to_text('FILE_LOADED_DAY') }} as file_loaded_day_text,
        {{ raw_to_date('FILE_LOADED_DAY') }} as file_loaded_day,
        {{ raw_to_text('PAYLOAD') }} as payload_text,
        {{ json_object_record('PAYLOAD', payload_keys) }} as payload_record
    from source

),

final as (

    select
        source_file_id,
        source_file,
        source_row,
        export_date_text,
        export_date,
        filename,
        file_row_no_text,
        file_row_no,
        file_loaded_day_text,
        file_loaded_day,
        payload_text,
        payload_record is not null as is_valid_json,
        {{ dbt.safe_cast(json_record_text('payload_record', 'userId'), dbt.type_bigint()) }} as user_id,
        {{ dbt.safe_cast(json_record_text('payload_record', 'organisationId'), dbt.type_bigint()) }} as organisation_id,
        {{ dbt.safe_cast(json_record_text('payload_record', 'createdAt'), 'date') }} as created_at,
        {{ dbt.safe_cast(json_record_text('payload_record', 'isAdmin'), dbt.type_boolean()) }} as is_admin,
        {{ json_record_text('payload_record', 'role') }} as role,
        trim({{ json_record_text('payload_record', 'status') }}) as status
    from unpacked

)

select * from final
