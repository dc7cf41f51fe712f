{# Deduplicated feature events per organisation, user, feature and day (unpaid, staff and error events included). #}

with events as (

    select * from {{ ref('fct_events') }}

),

final as (

    select
        organisation_id,
        user_id,
        feature,
        event_date as date,
        week_start,
        cast(count(*) as {{ dbt.type_bigint() }}) as events
    from events
    where feature is not null
    group by organisation_id, user_id, feature, event_date, week_start

)

-- Stored in organisation order: a per-organisation read skips most of the table.
select * from final
order by organisation_id, date
