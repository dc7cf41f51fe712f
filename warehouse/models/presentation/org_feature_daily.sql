with selected_features_daily as (

    select * from {{ ref('fct_selected_features_daily') }}

),

final as (

    select
        organisation_id,
        date,
        feature,
        selected_option,
        is_enabled,
        option_rank,
        week_start
    from selected_features_daily

)

select * from final
