{#
    Usage against entitlement per organisation, ISO week and feature. A row exists for
    every (organisation, week, feature) with an enabled known day or a feature event, so
    organisations paying for a feature they never use appear with 0 events.
    users_with_access = the organisation's active users on its last known day of the
    week for that feature, when the feature was enabled that day; else 0.
#}

with events as (

    select * from {{ ref('fct_events') }}

),

selected_features as (

    select * from {{ ref('fct_selected_features_daily') }}

),

active_users as (

    select * from {{ ref('int_org_active_users_daily') }}

),

weekly_usage as (

    select
        organisation_id,
        week_start,
        feature,
        count(*) as events,
        count(distinct user_id) as active_users
    from events
    where feature is not null
    group by organisation_id, week_start, feature

),

last_known_day as (

    select
        organisation_id,
        week_start,
        feature,
        date as last_known_date,
        is_enabled as is_enabled_on_last_known_date
    from selected_features
    qualify row_number() over (
        partition by organisation_id, week_start, feature order by date desc
    ) = 1

),

weekly_entitlement as (

    select
        selected_features.organisation_id,
        selected_features.week_start,
        selected_features.feature,
        sum(case when selected_features.is_enabled then 1 else 0 end) as days_enabled
    from selected_features
    group by
        selected_features.organisation_id,
        selected_features.week_start,
        selected_features.feature

),

weekly_access as (

    select
        weekly_entitlement.organisation_id,
        weekly_entitlement.week_start,
        weekly_entitlement.feature,
        weekly_entitlement.days_enabled,
        case
            when last_known_day.is_enabled_on_last_known_date
                then coalesce(active_users.active_user_count, 0)
            else 0
        end as users_with_access
    from weekly_entitlement
    inner join last_known_day
        on weekly_entitlement.organisation_id = last_known_day.organisation_id
        and weekly_entitlement.week_start = last_known_day.week_start
        and weekly_entitlement.feature = last_known_day.feature
    left join active_users
        on last_known_day.organisation_id = active_users.organisation_id
        and last_known_day.last_known_date = active_users.date

),

combined as (

    select
        coalesce(weekly_access.organisation_id, weekly_usage.organisation_id) as organisation_id,
        coalesce(weekly_access.week_start, weekly_usage.week_start) as week_start,
        coalesce(weekly_access.feature, weekly_usage.feature) as feature,
        coalesce(weekly_usage.events, 0) as events,
        coalesce(weekly_usage.active_users, 0) as active_users,
        coalesce(weekly_access.users_with_access, 0) as users_with_access,
        coalesce(weekly_access.days_enabled, 0) as days_enabled
    from weekly_access
    full outer join weekly_usage
        on weekly_access.organisation_id = weekly_usage.organisation_id
        and weekly_access.week_start = weekly_usage.week_start
        and weekly_access.feature = weekly_usage.feature

),

final as (

    select
        organisation_id,
        week_start,
        feature,
        cast(events as {{ dbt.type_bigint() }}) as events,
        cast(active_users as {{ dbt.type_bigint() }}) as active_users,
        cast(users_with_access as {{ dbt.type_bigint() }}) as users_with_access,
        cast(days_enabled as {{ dbt.type_bigint() }}) as days_enabled
    from combined
    where days_enabled > 0 or events > 0

)

-- Stored in organisation order: a per-organisation read skips most of the table.
select * from final
order by organisation_id, week_start
