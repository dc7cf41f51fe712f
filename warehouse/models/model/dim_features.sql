{#
    Features and options: the contract's (feature_options seed, with option order) plus
    every other (feature, option) seen in the exports, so unknown features are kept.
#}

with feature_options as (

    select * from {{ ref('feature_options') }}

),

selected_features as (

    select * from {{ ref('fct_selected_features_daily') }}

),

seen_options as (

    select distinct feature, selected_option as option, option_rank, is_enabled
    from selected_features

),

unioned as (

    select feature, option, option_rank, is_enabled, true as is_contract_option
    from feature_options

    union all

    select
        seen_options.feature,
        seen_options.option,
        seen_options.option_rank,
        seen_options.is_enabled,
        false as is_contract_option
    from seen_options
    left join feature_options
        on seen_options.feature = feature_options.feature
        and seen_options.option = feature_options.option
    where feature_options.feature is null

),

final as (

    select
        feature,
        option,
        cast(option_rank as {{ dbt.type_int() }}) as option_rank,
        is_enabled,
        is_contract_option
    from unioned

)

select * from final
