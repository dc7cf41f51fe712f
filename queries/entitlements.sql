-- Question 2, Entitlements: which features did one customer have in a given week?

-- name: features_of_organisation
-- grain: one row per feature ever known for :organisation_id
-- params: organisation_id (int)
select distinct feature
from {presentation}.org_feature_weekly
where organisation_id = :organisation_id
order by feature

-- name: known_days
-- grain: one row per (known day, feature) of :organisation_id between :first_day and :last_day
-- params: organisation_id (int), first_day (date), last_day (date), both inclusive
select date, feature, selected_option, is_enabled
from {presentation}.org_feature_daily
where organisation_id = :organisation_id
    and date between :first_day and :last_day
order by feature, date

-- name: option_before
-- grain: one row per feature: :organisation_id's option on its last known day before :before_day
-- params: organisation_id (int), before_day (date)
select feature, date, selected_option
from (
    select
        feature,
        date,
        selected_option,
        row_number() over (partition by feature order by date desc) as recency
    from {presentation}.org_feature_daily
    where organisation_id = :organisation_id
        and date < :before_day
) as known_before
where recency = 1

-- name: week_summary
-- grain: one row per feature known for :organisation_id in the week starting :week_start
-- params: organisation_id (int), week_start (date, a Monday)
select feature, days_known, days_enabled, first_option, last_option, changed_in_week
from {presentation}.org_feature_weekly
where organisation_id = :organisation_id
    and week_start = :week_start
order by feature

-- name: week_usage
-- grain: one row per feature of :organisation_id in the week starting :week_start that was
--   enabled on some day or had events
-- params: organisation_id (int), week_start (date, a Monday)
select feature, events, active_users, users_with_access, days_enabled
from {presentation}.org_feature_usage_weekly
where organisation_id = :organisation_id
    and week_start = :week_start
order by feature
