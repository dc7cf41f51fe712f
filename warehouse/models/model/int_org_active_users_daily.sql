{# Active users per organisation and USER export date (organisations with none have no row: read as 0). #}

with user_status as (

    select * from {{ ref('fct_user_status_daily') }}

),

final as (

    select
        organisation_id,
        date,
        cast(count(*) as {{ dbt.type_bigint() }}) as active_user_count
    from user_status
    where is_active
    group by organisation_id, date

)

select * from final
