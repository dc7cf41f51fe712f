{#
    The score's four inputs per pair (METRICS.md section 5, view 9), from data on or
    before the as-of date only: complete ISO weeks up to W (score_week_start) and
    entitlement changes up to the as-of date.
    - utilisation: sum active_users / sum users_with_access over W-3..W (null when 0).
    - usage_trend: events of W-3..W / events of W-11..W-8; null when the series (first
      week with an enabled day or an event) starts after W-11, so that the earlier weeks
      are not all inside it, or when the earlier weeks have no events (both 0, or a rise
      from nothing); a fall to 0 is 0.
    - weeks_since_last_event: weeks from the last week with an event up to W (0 = used
      in W); null when never used up to W.
    - recent_changes: downgrades of this feature and cancellations of the organisation's
      other features with change_date in (as_of - 84 days, as_of]; recent_change_words
      lists them ("SMS downgraded 12 Sep 2026"), latest first.
#}

with pairs as (

    select * from {{ ref('int_churn_risk__pairs') }}

),

usage_weekly as (

    select * from {{ ref('fct_org_feature_usage_weekly') }}

),

entitlement_changes as (

    select * from {{ ref('fct_feature_entitlement_changes') }}

),

weekly_windows as (

    select
        pairs.as_of_date,
        pairs.organisation_id,
        pairs.feature,
        min(usage_weekly.week_start) as series_start,
        max(case when usage_weekly.events > 0 then usage_weekly.week_start end) as last_event_week,
        sum(case when usage_weekly.week_start >= {{ add_days(-21, 'pairs.score_week_start') }}
            then usage_weekly.active_users else 0 end) as recent_active_users,
        sum(case when usage_weekly.week_start >= {{ add_days(-21, 'pairs.score_week_start') }}
            then usage_weekly.users_with_access else 0 end) as recent_users_with_access,
        sum(case when usage_weekly.week_start >= {{ add_days(-21, 'pairs.score_week_start') }}
            then usage_weekly.events else 0 end) as recent_events,
        sum(case when usage_weekly.week_start between {{ add_days(-77, 'pairs.score_week_start') }}
                and {{ add_days(-56, 'pairs.score_week_start') }}
            then usage_weekly.events else 0 end) as earlier_events
    from pairs
    inner join usage_weekly
        on pairs.organisation_id = usage_weekly.organisation_id
        and pairs.feature = usage_weekly.feature
        and usage_weekly.week_start <= pairs.score_week_start
    group by pairs.as_of_date, pairs.organisation_id, pairs.feature

),

recent_change_rows as (

    select
        pairs.as_of_date,
        pairs.organisation_id,
        pairs.feature,
        entitlement_changes.change_date,
        entitlement_changes.feature || ' '
            || case when entitlement_changes.change_type = 'downgrade' then 'downgraded' else 'cancelled' end
            || ' ' || {{ spoken_date('entitlement_changes.change_date') }} as change_words
    from pairs
    inner join entitlement_changes
        on pairs.organisation_id = entitlement_changes.organisation_id
        and entitlement_changes.change_date <= pairs.as_of_date
        and entitlement_changes.change_date > {{ add_days(-84, 'pairs.as_of_date') }}
        and (
            (entitlement_changes.feature = pairs.feature and entitlement_changes.change_type = 'downgrade')
            or (entitlement_changes.feature <> pairs.feature and entitlement_changes.change_type = 'cancellation')
        )

),

recent_changes as (

    select
        as_of_date,
        organisation_id,
        feature,
        count(*) as recent_changes,
        {{ dbt.listagg('change_words', "'; '", 'order by change_date desc, change_words') }} as recent_change_words
    from recent_change_rows
    group by as_of_date, organisation_id, feature

),

final as (

    select
        pairs.as_of_date,
        pairs.organisation_id,
        pairs.feature,
        pairs.last_known_date,
        pairs.is_current,
        pairs.is_backtest,
        pairs.score_week_start,
        cast(
            case when weekly_windows.recent_users_with_access > 0
                then cast(weekly_windows.recent_active_users as double) / weekly_windows.recent_users_with_access
            end as double
        ) as utilisation,
        cast(
            case when weekly_windows.series_start <= {{ add_days(-77, 'pairs.score_week_start') }}
                    and weekly_windows.earlier_events > 0
                then cast(weekly_windows.recent_events as double) / weekly_windows.earlier_events
            end as double
        ) as usage_trend,
        cast(
            {{ dbt.datediff('weekly_windows.last_event_week', 'pairs.score_week_start', 'day') }} / 7
            as {{ dbt.type_int() }}
        ) as weeks_since_last_event,
        cast(coalesce(recent_changes.recent_changes, 0) as {{ dbt.type_int() }}) as recent_changes,
        recent_changes.recent_change_words
    from pairs
    left join weekly_windows
        on pairs.as_of_date = weekly_windows.as_of_date
        and pairs.organisation_id = weekly_windows.organisation_id
        and pairs.feature = weekly_windows.feature
    left join recent_changes
        on pairs.as_of_date = recent_changes.as_of_date
        and pairs.organisation_id = recent_changes.organisation_id
        and pairs.feature = recent_changes.feature

)

select * from final
