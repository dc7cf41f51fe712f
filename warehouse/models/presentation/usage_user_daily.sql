with feature_usage_user_daily as (

    select * from {{ ref('fct_feature_usage_user_daily') }}

),

final as (

    select
        organisation_id,
        user_id,
        feature,
        date,
        events,
        week_start
    from feature_usage_user_daily

)

select * from final
