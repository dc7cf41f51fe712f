{#
    The churn-risk back-test at pair grain: every (back-test date, organisation,
    feature) enabled on the organisation's last known day on or before the date, its
    score as of that date, and whether it is positive: a confirmed cancellation of the
    feature with change_date in (as_of_date, as_of_date + 91 days]. The score reads
    only data on or before the date; only the label looks ahead.
#}

{%- set horizon_days = var('churn_risk_horizon_days') %}

with scored as (

    select * from {{ ref('int_churn_risk__scored') }}

),

entitlement_changes as (

    select * from {{ ref('fct_feature_entitlement_changes') }}

),

cancellations as (

    select
        scored.as_of_date,
        scored.organisation_id,
        scored.feature,
        min(entitlement_changes.change_date) as cancellation_date
    from scored
    inner join entitlement_changes
        on scored.organisation_id = entitlement_changes.organisation_id
        and scored.feature = entitlement_changes.feature
        and entitlement_changes.change_type = 'cancellation'
        and entitlement_changes.is_confirmed
        and entitlement_changes.change_date > scored.as_of_date
        and entitlement_changes.change_date <= {{ add_days(horizon_days, 'scored.as_of_date') }}
    where scored.is_backtest
    group by scored.as_of_date, scored.organisation_id, scored.feature

),

final as (

    select
        scored.as_of_date,
        scored.organisation_id,
        scored.feature,
        scored.risk_score,
        scored.risk_band,
        scored.utilisation,
        scored.usage_trend,
        scored.weeks_since_last_event,
        scored.recent_changes,
        scored.reasons,
        cancellations.cancellation_date,
        cancellations.cancellation_date is not null as is_positive
    from scored
    left join cancellations
        on scored.as_of_date = cancellations.as_of_date
        and scored.organisation_id = cancellations.organisation_id
        and scored.feature = cancellations.feature
    where scored.is_backtest

)

select * from final
order by as_of_date, organisation_id, feature
