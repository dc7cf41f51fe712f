{# Unpaid feature events per ISO week, feature and reason, with the organisations involved. #}

with unpaid_events as (

    select * from {{ ref('fct_unpaid_usage_events') }}

),

final as (

    select
        week_start,
        feature,
        reason,
        cast(count(*) as {{ dbt.type_bigint() }}) as events,
        cast(count(distinct organisation_id) as {{ dbt.type_bigint() }}) as organisations
    from unpaid_events
    group by week_start, feature, reason

)

select * from final
