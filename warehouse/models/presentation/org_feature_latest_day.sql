with org_feature_latest_day as (

    select * from {{ ref('fct_org_feature_latest_day') }}

),

final as (

    select
        organisation_id,
        feature,
        latest_known_day,
        selected_option,
        is_enabled
    from org_feature_latest_day

)

select * from final
