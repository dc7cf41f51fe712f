with organisations as (

    select * from {{ ref('dim_organisations') }}

),

final as (

    select
        organisation_id,
        organisation_name,
        region,
        first_export_date,
        last_export_date,
        ods_code
    from organisations

)

select * from final
