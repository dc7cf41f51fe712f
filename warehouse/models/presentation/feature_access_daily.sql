with feature_access_daily as (

    select * from {{ ref('fct_feature_access_daily') }}

),

final as (

    select
        date,
        feature,
        selected_option,
        org_count,
        active_user_count
    from feature_access_daily

)

select * from final
