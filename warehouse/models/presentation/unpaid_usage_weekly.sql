with unpaid_usage_weekly as (

    select * from {{ ref('fct_unpaid_usage_weekly') }}

),

final as (

    select
        week_start,
        feature,
        reason,
        events,
        organisations
    from unpaid_usage_weekly

)

select * from final
