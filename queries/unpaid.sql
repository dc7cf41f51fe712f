-- Unpaid usage (tab 4): a customer used a feature they don't pay for; how often, and why?
-- Filters of every statement: whole weeks :start_week to :end_week (Mondays; events by
-- date from :start_week to :end_day, the last Sunday), feature :feature and reason
-- :reason ('*' = all).

-- name: weekly_overview
-- grain: one row per week (week_start) from :start_week to :end_week that has any usage
--   row (so weeks without unpaid events show 0)
-- params: start_week (date), end_week (date), feature (text or '*'), reason (text or '*')
-- unpaid_events from unpaid_usage_weekly; unpaid_customers: distinct organisations with
-- an unpaid event that week (counted from unpaid_usage_events, since organisations of
-- unpaid_usage_weekly rows cannot be added across features and reasons); feature_events:
-- every feature event of the week for the feature filter (the reason filter does not
-- apply to it).
with weeks as (
    select week_start, sum(case when feature = :feature or :feature = '*' then events else 0 end) as feature_events
    from {presentation}.org_feature_usage_weekly
    where week_start between :start_week and :end_week
    group by week_start
),

unpaid as (
    select week_start, sum(events) as unpaid_events
    from {presentation}.unpaid_usage_weekly
    where week_start between :start_week and :end_week
        and (feature = :feature or :feature = '*')
        and (reason = :reason or :reason = '*')
    group by week_start
),

unpaid_customers as (
    select w.week_start, count(distinct e.organisation_id) as unpaid_customers
    from weeks as w
    inner join {presentation}.unpaid_usage_events as e
        on e.date >= w.week_start
        and e.date < w.week_start + 7
    where (e.feature = :feature or :feature = '*')
        and (e.reason = :reason or :reason = '*')
    group by w.week_start
)

select
    w.week_start,
    coalesce(u.unpaid_events, 0) as unpaid_events,
    coalesce(c.unpaid_customers, 0) as unpaid_customers,
    w.feature_events,
    case when w.feature_events > 0
        then cast(coalesce(u.unpaid_events, 0) as double) / w.feature_events
    end as unpaid_share
from weeks as w
left join unpaid as u on u.week_start = w.week_start
left join unpaid_customers as c on c.week_start = w.week_start
order by w.week_start

-- name: weekly_by_reason
-- grain: one row per (week_start, reason) with unpaid events in the period
-- params: start_week (date), end_week (date), feature (text or '*'), reason (text or '*')
select week_start, reason, sum(events) as events
from {presentation}.unpaid_usage_weekly
where week_start between :start_week and :end_week
    and (feature = :feature or :feature = '*')
    and (reason = :reason or :reason = '*')
group by week_start, reason
order by week_start, reason

-- name: reason_definitions
-- grain: one row per unpaid reason (the warehouse's list, whether or not it occurs),
--   in the warehouse's order of precedence
-- params: none
-- label and explanation: the words every page uses for the reason; colour: its series.
select reason, label, explanation, display_order, colour
from {presentation}.unpaid_reasons
order by display_order, reason

-- name: customers_ranked
-- grain: one row per organisation with an unpaid event in the period (filters applied)
-- params: start_week (date), end_day (date), feature (text or '*'), reason (text or '*')
-- feature_events: all its feature events in those weeks for the feature filter, so
-- unpaid_share = unpaid_events / feature_events. Its events per reason: customer_reasons.
with unpaid as (
    select organisation_id, user_id, date, reason
    from {presentation}.unpaid_usage_events
    where date between :start_week and :end_day
        and (feature = :feature or :feature = '*')
        and (reason = :reason or :reason = '*')
),

per_customer as (
    select
        organisation_id,
        count(*) as unpaid_events,
        count(distinct user_id) as users,
        count(distinct date) as days,
        min(date) as first_date,
        max(date) as last_date
    from unpaid
    group by organisation_id
),

all_usage as (
    select organisation_id, sum(events) as feature_events
    from {presentation}.org_feature_usage_weekly
    where week_start between :start_week and :end_day
        and (feature = :feature or :feature = '*')
    group by organisation_id
)

select
    p.organisation_id,
    o.organisation_name,
    o.region,
    p.unpaid_events,
    coalesce(a.feature_events, 0) as feature_events,
    case when a.feature_events > 0 then cast(p.unpaid_events as double) / a.feature_events end as unpaid_share,
    p.users,
    p.days,
    p.first_date,
    p.last_date
from per_customer as p
left join all_usage as a on a.organisation_id = p.organisation_id
left join {presentation}.organisations as o on o.organisation_id = p.organisation_id
order by p.unpaid_events desc, organisation_name, p.organisation_id

-- name: customer_reasons
-- grain: one row per (organisation, reason) with unpaid events in the period (filters
--   applied): the per-reason counts of customers_ranked
-- params: start_week (date), end_day (date), feature (text or '*'), reason (text or '*')
select organisation_id, reason, count(*) as events
from {presentation}.unpaid_usage_events
where date between :start_week and :end_day
    and (feature = :feature or :feature = '*')
    and (reason = :reason or :reason = '*')
group by organisation_id, reason
order by organisation_id, reason

-- name: customer_events
-- grain: one row per unpaid event of :organisation_id in the period (filters applied),
--   latest first, at most 5,001 (the page shows 5,000 and says when there are more)
-- params: organisation_id (int), start_week (date), end_day (date), feature (text or
--   '*'), reason (text or '*'). No user names or emails: the user id only.
select
    event_timestamp, date, user_id, event_name, feature, required_options, org_option,
    reason, message_id
from {presentation}.unpaid_usage_events
where organisation_id = :organisation_id
    and date between :start_week and :end_day
    and (feature = :feature or :feature = '*')
    and (reason = :reason or :reason = '*')
order by event_timestamp desc, message_id
limit 5001
