-- Customers (organisations) and the extent of the data: shared by every tab.

-- name: build_identity
-- grain: one row: the latest FEATURE export date and the number of organisations
-- params: none. Used by the Snowflake runner to notice a rebuilt warehouse.
select max(last_export_date) as last_export_date, count(*) as organisations
from {presentation}.organisations

-- name: all_organisations
-- grain: one row per organisation with a FEATURE row
-- params: none
select organisation_id, organisation_name, region, first_export_date, last_export_date
from {presentation}.organisations
order by organisation_name, organisation_id

-- name: organisation_by_id
-- grain: zero or one row: the organisation :organisation_id
-- params: organisation_id (int)
select organisation_id, organisation_name, region, first_export_date, last_export_date
from {presentation}.organisations
where organisation_id = :organisation_id

-- name: data_extent
-- grain: one row: first and last FEATURE export dates overall, and the latest complete date
-- params: none. latest_complete_date is null when no export date qualifies.
select
    min(o.first_export_date) as first_export_date,
    max(o.last_export_date) as last_export_date,
    (select max(l.as_of_date) from {presentation}.latest_complete_date as l) as latest_complete_date
from {presentation}.organisations as o

-- name: features
-- grain: one row per feature seen in any FEATURE export (contract names and any other)
-- params: none
select distinct feature
from {presentation}.org_feature_weekly
order by feature

-- name: usage_week_extent
-- grain: one row: the first and last week (Mondays) of org_feature_usage_weekly, which has
--   a row for every week with an enabled day or a feature event (null when empty)
-- params: none
select min(week_start) as first_week, max(week_start) as last_week
from {presentation}.org_feature_usage_weekly
