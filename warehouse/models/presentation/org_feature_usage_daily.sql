with org_feature_usage_daily as (

    select * from {{ ref('fct_org_feature_usage_daily') }}

),

final as (

    select
        organisation_id,
        feature,
        date,
        events,
        active_users
    from org_feature_usage_daily

)

select * from final
