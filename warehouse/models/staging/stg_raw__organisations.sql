with source as (

    select * from {{ source('raw', 'ORGANISATION') }}

),

final as (

    select
        {{ raw_load_lineage() }},
        {{ raw_to_bigint('ORGANISATION_ID') }} as organisation_id,
        nullif(trim({{ raw_to_text('ORGANISATION_NAME') }}), '') as organisation_name,
        nullif(trim({{ raw_to_text('ODS_CODE') }}), '') as ods_code,
        nullif(trim({{ raw_to_text('REGION') }}), '') as region
    from source

)

select * from final
