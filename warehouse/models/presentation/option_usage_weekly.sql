with option_usage_weekly as (

    select * from {{ ref('fct_option_usage_weekly') }}

),

final as (

    select
        week_start,
        feature,
        last_option,
        peer_median_events,
        peer_count
    from option_usage_weekly

)

select * from final
