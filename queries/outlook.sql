-- Outlook (tab 6): what is coming. Which customers may cancel a feature and why
-- (churn_risk), what usage to expect (usage_forecast_weekly, usage_forecast_accuracy) and
-- how far to trust the risk score (churn_risk_backtest). METRICS.md section 5.
-- :feature is a feature name or '*' for every feature; :band a risk band or '*'.

-- name: risk_ranking
-- grain: one row per (organisation, feature) enabled on churn_risk's as_of_date
-- params: feature (text or '*'), band (text or '*')
-- Highest risk first; ties by customer name, then feature, so one view has one order.
select
    r.as_of_date,
    r.organisation_id,
    o.organisation_name,
    o.region,
    r.feature,
    r.risk_score,
    r.risk_band,
    r.reasons,
    r.utilisation,
    r.usage_trend,
    r.weeks_since_last_event,
    r.recent_changes
from {presentation}.churn_risk as r
left join {presentation}.organisations as o
    on o.organisation_id = r.organisation_id
where (r.feature = :feature or :feature = '*')
    and (r.risk_band = :band or :band = '*')
order by r.risk_score desc, o.organisation_name, r.organisation_id, r.feature

-- name: feature_forecast
-- grain: one row per (feature, week_start) of the 12 forecast weeks, level 'feature'
-- params: feature (text or '*')
-- model 'insufficient_history': null forecast and bounds (fewer than 12 weeks of history).
select
    feature, week_start, forecast, lower_80, upper_80, lower_95, upper_95, model,
    trained_through, backend
from {presentation}.usage_forecast_weekly
where level = 'feature'
    and (feature = :feature or :feature = '*')
order by feature, week_start

-- name: feature_actuals
-- grain: one row per (feature, week_start) with a usage row, up to the feature's
--   forecast trained_through (the weeks the model learned from)
-- params: feature (text or '*')
-- events: every organisation's events of the feature that ISO week. A week without any
-- row is absent here and counts as 0 (the forecast's series does the same).
with trained as (
    select feature, max(trained_through) as trained_through
    from {presentation}.usage_forecast_weekly
    where level = 'feature'
        and (feature = :feature or :feature = '*')
    group by feature
)

select u.feature, u.week_start, sum(u.events) as events
from {presentation}.org_feature_usage_weekly as u
inner join trained as t
    on t.feature = u.feature
    and u.week_start <= t.trained_through
group by u.feature, u.week_start
order by u.feature, u.week_start

-- name: feature_accuracy
-- grain: one row per (feature, model) of the rolling-origin back-test, level 'feature',
--   the naive forecast ('naive', last week again) included
-- params: feature (text or '*')
select feature, model, origins, mae, wape, mase, coverage_80, coverage_95, backend
from {presentation}.usage_forecast_accuracy
where level = 'feature'
    and (feature = :feature or :feature = '*')
order by feature, model

-- name: risk_backtest
-- grain: one row per back-test date, plus the pooled row (as_of_date null) first
-- params: none
select
    as_of_date, pairs, cancellations, base_rate, auc, auc_lower_95, auc_upper_95,
    precision_at_20
from {presentation}.churn_risk_backtest
order by as_of_date nulls first
