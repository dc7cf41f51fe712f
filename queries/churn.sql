-- Churn (tab 5): do we lose features? Changes per month, retention cohorts, churned
-- customers and their usage before they left, and entitled customers gone quiet.
-- :feature is a feature name or '*' for every feature.

-- name: changes_by_month
-- grain: one row per (month, feature, change_type, status) with at least one change
-- params: feature (text or '*')
-- month: first day of the change's month. status: the view's cancellation_status
-- (cancellations: confirmed | reversed | provisional; null for other changes).
select
    date_trunc('month', change_date) as month,
    feature,
    change_type,
    cancellation_status as status,
    count(*) as changes,
    count(distinct organisation_id) as customers
from {presentation}.feature_entitlement_changes
where feature = :feature or :feature = '*'
group by 1, 2, 3, 4
order by 1, 2, 3, 4

-- name: retention_cohorts
-- grain: one row per (feature, cohort_month, is_left_censored, months_since_start)
-- params: feature (text or '*')
select
    feature, cohort_month, months_since_start, cohort_size, retained, retention_rate,
    is_left_censored
from {presentation}.feature_retention_cohorts
where feature = :feature or :feature = '*'
order by feature, cohort_month, is_left_censored, months_since_start

-- name: cancellations_with_usage
-- grain: one row per cancellation (organisation, feature, change_date)
-- params: feature (text or '*')
-- Usage before it from org_feature_usage_weekly, in whole weeks that end before the
-- cancellation day: the 4 weeks with week_start in (change_date - 35, change_date - 7]
-- and the 12 weeks in (change_date - 91, change_date - 7]. Weeks without a usage row
-- (feature off and no event) count as 0.
with cancellations as (
    select organisation_id, feature, change_date, from_option, cancellation_status
    from {presentation}.feature_entitlement_changes
    where change_type = 'cancellation'
        and (feature = :feature or :feature = '*')
),

usage_before as (
    select
        c.organisation_id,
        c.feature,
        c.change_date,
        sum(case when u.week_start > c.change_date - 35 then u.events else 0 end) as events_4_weeks,
        sum(u.events) as events_12_weeks,
        max(case when u.week_start > c.change_date - 35 then u.active_users else 0 end) as peak_active_users_4_weeks
    from cancellations as c
    inner join {presentation}.org_feature_usage_weekly as u
        on u.organisation_id = c.organisation_id
        and u.feature = c.feature
        and u.week_start <= c.change_date - 7
        and u.week_start > c.change_date - 91
    group by c.organisation_id, c.feature, c.change_date
)

select
    c.organisation_id,
    o.organisation_name,
    o.region,
    c.feature,
    c.change_date,
    c.from_option,
    c.cancellation_status as status,
    coalesce(b.events_4_weeks, 0) as events_4_weeks,
    coalesce(b.events_12_weeks, 0) as events_12_weeks,
    coalesce(b.peak_active_users_4_weeks, 0) as peak_active_users_4_weeks,
    o.first_export_date
from cancellations as c
left join usage_before as b
    on b.organisation_id = c.organisation_id
    and b.feature = c.feature
    and b.change_date = c.change_date
left join {presentation}.organisations as o
    on o.organisation_id = c.organisation_id
order by c.change_date desc, organisation_name, c.feature

-- name: dormant_entitled
-- grain: one row per (organisation, feature) enabled on the organisation's latest known
--   day for that feature, with no feature event from :window_start to :data_end
-- params: feature (text or '*'), window_start (date: :data_end - 27), data_end (date:
--   the latest export date, so the window is the last 28 days of data)
-- last_event_date: its latest event of the feature up to :data_end (null: never).
-- Reads the latest known day per (organisation, feature) and the events per
-- (organisation, feature, day) that the warehouse keeps, not every known day and every
-- user's day: one pass over the day totals of the enabled pairs gives both the window's
-- events and the last event date.
with enabled_now as (
    select organisation_id, feature, latest_known_day, selected_option
    from {presentation}.org_feature_latest_day
    where is_enabled
        and (feature = :feature or :feature = '*')
),

usage_to_end as (
    select
        u.organisation_id,
        u.feature,
        sum(case when u.date >= :window_start then u.events else 0 end) as recent_events,
        max(u.date) as last_event_date
    from {presentation}.org_feature_usage_daily as u
    inner join enabled_now as e
        on e.organisation_id = u.organisation_id
        and e.feature = u.feature
    where u.date <= :data_end
    group by u.organisation_id, u.feature
)

select
    e.organisation_id,
    o.organisation_name,
    o.region,
    e.feature,
    e.selected_option,
    e.latest_known_day,
    u.last_event_date
from enabled_now as e
left join usage_to_end as u
    on u.organisation_id = e.organisation_id
    and u.feature = e.feature
left join {presentation}.organisations as o
    on o.organisation_id = e.organisation_id
where coalesce(u.recent_events, 0) = 0
order by u.last_event_date nulls first, organisation_name, e.feature
