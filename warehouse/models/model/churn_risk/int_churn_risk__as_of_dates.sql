{#
    The dates the churn-risk score is computed as of (METRICS.md section 5, view 9):
    the current one (latest complete export date) and the back-test dates: the Sunday
    ending the 13th complete ISO week of the data, then every 28 days while the latest
    FEATURE export date is at least 119 days (91 + 28) later. score_week_start (W) is
    the Monday of the last ISO week whose Sunday is on or before the date.
#}

{%- set horizon_days = var('churn_risk_horizon_days') %}
{%- set step_days = var('churn_risk_backtest_step_days') %}

with export_coverage as (

    select * from {{ ref('fct_export_coverage_daily') }}

),

calendar as (

    select * from {{ ref('dim_dates') }}

),

bounds as (

    select
        -- Monday of the first complete ISO week, plus 13 weeks, minus a day: its Sunday.
        {{ add_days(13 * 7 - 1, iso_week_start(add_days(6, 'min(date)'))) }} as first_backtest_date,
        max(date) as latest_export_date,
        max(case when is_complete then date end) as latest_complete_date
    from export_coverage

),

backtest_dates as (

    select calendar.date as as_of_date
    from calendar
    cross join bounds
    where calendar.date >= bounds.first_backtest_date
        and mod({{ dbt.datediff('bounds.first_backtest_date', 'calendar.date', 'day') }}, {{ step_days }}) = 0
        and {{ add_days(horizon_days + var('cancellation_confirmation_days'), 'calendar.date') }}
            <= bounds.latest_export_date

),

as_of_dates as (

    select latest_complete_date as as_of_date, 1 as is_current, 0 as is_backtest
    from bounds
    where latest_complete_date is not null
    union all
    select as_of_date, 0 as is_current, 1 as is_backtest
    from backtest_dates

),

final as (

    select
        as_of_date,
        max(is_current) = 1 as is_current,
        max(is_backtest) = 1 as is_backtest,
        {{ iso_week_start(add_days(-6, 'as_of_date')) }} as score_week_start
    from as_of_dates
    group by as_of_date

)

select * from final
