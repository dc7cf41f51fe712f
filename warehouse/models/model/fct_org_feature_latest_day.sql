{#
    Each organisation's latest known day per feature and its entitlement that day: one row
    per (organisation, feature) of fct_selected_features_daily. Built once here so that
    "enabled on its latest known day" (the Churn tab's dormant customers) reads thousands
    of rows instead of every known day of every organisation.
#}

with selected_features_daily as (

    select * from {{ ref('fct_selected_features_daily') }}

),

final as (

    select
        organisation_id,
        feature,
        date as latest_known_day,
        selected_option,
        is_enabled
    from selected_features_daily
    qualify row_number() over (partition by organisation_id, feature order by date desc) = 1

)

select * from final
order by organisation_id, feature
