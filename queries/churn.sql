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
with latest_day as (
    select organisation_id, feature, max(date) as latest_known_day
    from {presentation}.org_feature_daily
    where feature = :feature or :feature = '*'
    group by organisation_id, feature
),

enabled_now as (
    select d.organisation_id, d.feature, d.date as latest_known_day, d.selected_option
    from {presentation}.org_feature_daily as d
    inner join latest_day as l
        on l.organisation_id = d.organisation_id
        and l.feature = d.feature
        and l.latest_known_day = d.date
    where d.is_enabled
),

recent_usage as (
    select organisation_id, feature, sum(events) as events
    from {presentation}.usage_user_daily
    where date between :window_start and :data_end
        and (feature = :feature or :feature = '*')
    group by organisation_id, feature
),

last_use as (
    select organisation_id, feature, max(date) as last_event_date
    from {presentation}.usage_user_daily
    where date <= :data_end
        and (feature = :feature or :feature = '*')
    group by organisation_id, feature
)

select
    e.organisation_id,
    o.organisation_name,
    o.region,
    e.feature,
    e.selected_option,
    e.latest_known_day,
    l.last_event_date
from enabled_now as e
left join recent_usage as r
    on r.organisation_id = e.organisation_id
    and r.feature = e.feature
left join last_use as l
    on l.organisation_id = e.organisation_id
    and l.feature = e.feature
left join {presentation}.organisations as o
    on o.organisation_id = e.organisation_id
where coalesce(r.events, 0) = 0
order by l.last_event_date nulls first, organisation_name, e.feature
