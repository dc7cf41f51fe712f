-- Usage leaderboard (tab 3): which customers use their features least, and which most?
-- Everything comes from org_feature_usage_weekly, which has a row for every
-- (organisation, week, feature) with an enabled day or an event, so a customer that
-- pays for a feature and never uses it has rows with events = 0.

-- name: leaderboard
-- grain: one row per (organisation, feature) with a row in org_feature_usage_weekly in
--   the weeks :start_week to :end_week, for feature :feature ('*' = every feature)
-- params: start_week (date, a Monday), end_week (date, a Monday), feature (text or '*')
-- Sums over the weeks: events, active user-weeks, user-weeks with access, enabled days.
-- The three ratios are null when undefined (a zero denominator with some usage); a
-- customer without any event scores 0 on all of them (it used nothing). is_entitled:
-- at least one enabled day in the period (only those are ranked).
with usage_in_period as (
    select organisation_id, feature, events, active_users, users_with_access, days_enabled
    from {presentation}.org_feature_usage_weekly
    where week_start between :start_week and :end_week
        and (feature = :feature or :feature = '*')
),

per_customer as (
    select
        organisation_id,
        feature,
        sum(events) as events,
        sum(active_users) as active_user_weeks,
        sum(users_with_access) as user_weeks_with_access,
        sum(days_enabled) as days_enabled,
        sum(case when days_enabled > 0 then 1 else 0 end) as weeks_enabled
    from usage_in_period
    group by organisation_id, feature
),

final as (
    select
        p.organisation_id,
        o.organisation_name,
        o.region,
        p.feature,
        p.events,
        p.active_user_weeks,
        p.user_weeks_with_access,
        p.days_enabled,
        p.weeks_enabled,
        p.days_enabled > 0 as is_entitled,
        case
            when p.events = 0 then 0.0
            when p.active_user_weeks = 0 then null
            else cast(p.events as double) / p.active_user_weeks
        end as events_per_active_user,
        case
            when p.events = 0 then 0.0
            when p.user_weeks_with_access = 0 then null
            else cast(p.active_user_weeks as double) / p.user_weeks_with_access
        end as adoption,
        case
            when p.events = 0 then 0.0
            when p.days_enabled = 0 then null
            else cast(p.events as double) / p.days_enabled
        end as events_per_entitled_day
    from per_customer as p
    left join {presentation}.organisations as o
        on o.organisation_id = p.organisation_id
)

select
    organisation_id, organisation_name, region, feature, events, active_user_weeks,
    user_weeks_with_access, days_enabled, weeks_enabled, is_entitled,
    events_per_active_user, adoption, events_per_entitled_day
from final
order by organisation_name, organisation_id, feature
