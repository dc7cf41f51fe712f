-- Question 1, Access: how many customers and users currently have access to a feature?

-- name: export_dates
-- grain: one row per FEATURE export date (any organisation known that day)
-- params: none
select distinct date
from {presentation}.org_feature_daily
order by date

-- name: access_on_date
-- grain: one row per (feature, enabled selected_option) on :as_of_date
-- params: as_of_date (date)
select feature, selected_option, org_count, active_user_count
from {presentation}.feature_access_daily
where date = :as_of_date
order by feature, selected_option

-- name: enabled_options
-- grain: one row per (feature, enabled selected_option) ever seen
-- params: none
select feature, selected_option
from {presentation}.feature_access_daily
group by feature, selected_option
order by feature, selected_option

-- name: access_trend
-- grain: one row per export date on which some organisation had :feature = :selected_option
-- params: feature (text), selected_option (text)
select date, org_count, active_user_count
from {presentation}.feature_access_daily
where feature = :feature and selected_option = :selected_option
order by date

-- name: customers_with_access
-- grain: one row per organisation whose :feature was :selected_option on :as_of_date
-- params: as_of_date (date), feature (text), selected_option (text).
-- active_user_count: the organisation's active users on :as_of_date (0 without a USER export).
-- The name and region are on each row of org_feature_daily (as in organisations): no join.
select organisation_id, organisation_name, region, active_user_count
from {presentation}.org_feature_daily
where date = :as_of_date
    and feature = :feature
    and selected_option = :selected_option
order by organisation_name, organisation_id

-- name: all_trends
-- grain: one row per (export date, feature, enabled selected_option) with some organisation
-- params: none
select date, feature, selected_option, org_count, active_user_count
from {presentation}.feature_access_daily
order by feature, selected_option, date
