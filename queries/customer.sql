-- The customer page: everything about one customer for a renewal meeting.

-- name: entitlement_days
-- grain: one row per (feature, known day) of :organisation_id
-- params: organisation_id (int)
select feature, date, selected_option, is_enabled
from {presentation}.org_feature_daily
where organisation_id = :organisation_id
order by feature, date

-- name: usage_against_peers
-- grain: one row per (week, feature) in which :organisation_id had a known day or events,
--   from :since_week on
-- params: organisation_id (int), since_week (date, a Monday)
-- option is the organisation's option on its last known day of the week (null when no
-- day of the week is known); peers are every organisation with that same feature and
-- option that week, the organisation included, and peer_median_events the median of
-- their weekly events (0 for a peer without events): option_usage_weekly, computed once
-- by the warehouse build for every (week, feature, option).
with my_usage as (
    select week_start, feature, events, active_users, users_with_access
    from {presentation}.org_feature_usage_weekly
    where organisation_id = :organisation_id
        and week_start >= :since_week
),

my_option as (
    select week_start, feature, last_option
    from {presentation}.org_feature_weekly
    where organisation_id = :organisation_id
        and week_start >= :since_week
),

mine as (
    select
        coalesce(o.week_start, u.week_start) as week_start,
        coalesce(o.feature, u.feature) as feature,
        o.last_option,
        coalesce(u.events, 0) as events,
        coalesce(u.active_users, 0) as active_users,
        coalesce(u.users_with_access, 0) as users_with_access
    from my_option as o
    full outer join my_usage as u
        on u.week_start = o.week_start
        and u.feature = o.feature
)

select
    mine.week_start,
    mine.feature,
    mine.last_option as option,
    mine.events,
    mine.active_users,
    mine.users_with_access,
    peers.peer_median_events,
    peers.peer_count
from mine
left join {presentation}.option_usage_weekly as peers
    on peers.week_start = mine.week_start
    and peers.feature = mine.feature
    and peers.last_option = mine.last_option
order by mine.feature, mine.week_start

-- name: unpaid_by_reason
-- grain: one row per (reason, feature) of :organisation_id's unpaid events since :since_day
-- params: organisation_id (int), since_day (date)
select reason, feature, count(*) as events, max(date) as last_date
from {presentation}.unpaid_usage_events
where organisation_id = :organisation_id
    and date >= :since_day
group by reason, feature
order by events desc, reason, feature

-- name: recent_unpaid_events
-- grain: one row per unpaid event of :organisation_id since :since_day, the latest 200
-- params: organisation_id (int), since_day (date)
select
    event_timestamp, date, event_name, feature, required_options, org_option, reason, user_id
from {presentation}.unpaid_usage_events
where organisation_id = :organisation_id
    and date >= :since_day
order by event_timestamp desc, message_id
limit 200

-- name: entitlement_changes
-- grain: one row per entitlement change of :organisation_id (any date)
-- params: organisation_id (int)
select feature, change_date, from_option, to_option, change_type, cancellation_status
from {presentation}.feature_entitlement_changes
where organisation_id = :organisation_id
order by change_date desc, feature

-- name: risk_by_feature
-- grain: one row per feature of :organisation_id enabled on churn_risk's as_of_date
-- params: organisation_id (int)
select
    as_of_date, feature, risk_score, risk_band, reasons, utilisation, usage_trend,
    weeks_since_last_event, recent_changes
from {presentation}.churn_risk
where organisation_id = :organisation_id
order by risk_score desc, feature

-- name: forecast_by_feature
-- grain: one row per (feature, week_start) of :organisation_id's 12 forecast weeks
-- params: organisation_id (int)
-- model 'insufficient_history': null forecast and bounds (fewer than 12 weeks of history).
select
    feature, week_start, forecast, lower_80, upper_80, lower_95, upper_95, model,
    trained_through, backend
from {presentation}.usage_forecast_weekly
where level = 'organisation'
    and organisation_id = :organisation_id
order by feature, week_start

-- name: forecast_actuals
-- grain: one row per (feature, week_start) with a usage row of :organisation_id, for the
--   features it has a forecast of, up to that forecast's trained_through
-- params: organisation_id (int)
-- A week without a row counts as 0 (the forecast's series does the same).
with trained as (
    select feature, max(trained_through) as trained_through
    from {presentation}.usage_forecast_weekly
    where level = 'organisation'
        and organisation_id = :organisation_id
    group by feature
)

select u.feature, u.week_start, u.events
from {presentation}.org_feature_usage_weekly as u
inner join trained as t
    on t.feature = u.feature
    and u.week_start <= t.trained_through
where u.organisation_id = :organisation_id
order by u.feature, u.week_start

-- name: forecast_accuracy
-- grain: one row per (feature, model) of :organisation_id's forecast back-test, the
--   naive forecast included
-- params: organisation_id (int)
select feature, model, origins, mae, wape, mase, coverage_80, coverage_95, backend
from {presentation}.usage_forecast_accuracy
where level = 'organisation'
    and organisation_id = :organisation_id
order by feature, model
