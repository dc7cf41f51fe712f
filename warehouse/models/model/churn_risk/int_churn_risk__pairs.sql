{#
    The (as-of date, organisation, feature) pairs the churn-risk score is computed for:
    the feature is enabled on the organisation's last known day on or before the as-of
    date (for the current date: enabled ON that date, as the contract says of
    churn_risk). Only features with a usage rule: a feature nobody can use (one outside
    the contract) has no usage to read a risk from.
#}

with as_of_dates as (

    select * from {{ ref('int_churn_risk__as_of_dates') }}

),

selected_features as (

    select * from {{ ref('fct_selected_features_daily') }}

),

usage_rules as (

    select * from {{ ref('usage_rules') }}

),

scored_features as (

    select distinct feature from usage_rules

),

organisation_known_days as (

    select distinct organisation_id, date from selected_features

),

last_known_days as (

    select
        as_of_dates.as_of_date,
        organisation_known_days.organisation_id,
        max(organisation_known_days.date) as last_known_date
    from as_of_dates
    inner join organisation_known_days
        on organisation_known_days.date <= as_of_dates.as_of_date
    group by as_of_dates.as_of_date, organisation_known_days.organisation_id

),

final as (

    select
        last_known_days.as_of_date,
        last_known_days.organisation_id,
        selected_features.feature,
        last_known_days.last_known_date,
        as_of_dates.is_current,
        as_of_dates.is_backtest,
        as_of_dates.score_week_start
    from last_known_days
    inner join as_of_dates
        on last_known_days.as_of_date = as_of_dates.as_of_date
    inner join selected_features
        on last_known_days.organisation_id = selected_features.organisation_id
        and last_known_days.last_known_date = selected_features.date
    inner join scored_features
        on selected_features.feature = scored_features.feature
    where selected_features.is_enabled
        and (as_of_dates.is_backtest or last_known_days.last_known_date = as_of_dates.as_of_date)

)

select * from final
