with org_feature_weekly as (

    select * from {{ ref('fct_org_feature_weekly') }}

),

final as (

    select
        organisation_id,
        week_start,
        feature,
        days_known,
        days_enabled,
        first_option,
        last_option,
        changed_in_week
    from org_feature_weekly

)

select * from final
