with org_feature_usage_weekly as (

    select * from {{ ref('fct_org_feature_usage_weekly') }}

),

final as (

    select
        organisation_id,
        week_start,
        feature,
        events,
        active_users,
        users_with_access,
        days_enabled
    from org_feature_usage_weekly

)

select * from final
