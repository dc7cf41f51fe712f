{#
    The usage rules seed at rule grain: one row per (event_name, attachment_condition)
    with its feature and the allowing options listed in option order, joined by ", ".
#}

with usage_rules as (

    select * from {{ ref('usage_rules') }}

),

feature_options as (

    select * from {{ ref('feature_options') }}

),

ranked_options as (

    select
        usage_rules.event_name,
        usage_rules.attachment_condition,
        usage_rules.feature,
        feature_options.option as allowed_option,
        feature_options.option_rank
    from usage_rules
    inner join feature_options
        on usage_rules.feature = feature_options.feature
        and lower(trim(usage_rules.allowed_option)) = lower(feature_options.option)

),

final as (

    select
        event_name,
        attachment_condition,
        feature,
        {{ dbt.listagg('allowed_option', "', '", 'order by option_rank') }} as required_options
    from ranked_options
    group by event_name, attachment_condition, feature

)

select * from final
