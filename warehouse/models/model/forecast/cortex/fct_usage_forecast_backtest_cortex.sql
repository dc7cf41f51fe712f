{#
    The contract's rolling-origin back-test on Snowflake: 8 more Cortex trainings (sets
    1-8 of int_usage_forecast_training_cortex, each on the weeks before its origin only),
    each forecasting the origin's week and the 3 after, in the same row shape as the
    local back-test, so fct_usage_forecast_accuracy computes both targets' figures alike.
    The naive forecast's own rows (model 'naive', last week before the origin) carry no
    interval here: their coverage is null on Snowflake.
#}

{%- set hooks = [] %}
{%- for training_set in range(1, 9) %}
{%- do hooks.append("{{ cortex_train_usage_forecast(" ~ training_set ~ ") }}") %}
{%- endfor %}
{{ config(pre_hook=hooks) }}

with series as (

    select * from {{ ref('int_usage_forecast_series') }}

),

training as (

    select * from {{ ref('int_usage_forecast_training_cortex') }}

),

origins as (

    select distinct training_set, origin
    from training
    where training_set between 1 and 8

),

forecasts as (

    {%- for training_set in range(1, 9) %}
    select
        {{ training_set }} as training_set,
        forecast.*
    from (
        {{ cortex_usage_forecast_to_contract(
            cortex_usage_forecast_rows(training_set, 4, 0.8),
            cortex_usage_forecast_rows(training_set, 4, 0.95)
        ) }}
    ) as forecast
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

with_actuals as (

    select
        forecasts.level,
        forecasts.organisation_id,
        forecasts.feature,
        origins.origin,
        forecasts.week_start,
        actual.events as actual,
        forecasts.forecast,
        last_week.events as naive_forecast,
        forecasts.lower_80,
        forecasts.upper_80,
        forecasts.lower_95,
        forecasts.upper_95
    from forecasts
    inner join origins
        on forecasts.training_set = origins.training_set
    inner join series as actual
        on actual.level = forecasts.level
        and equal_null(actual.organisation_id, forecasts.organisation_id)
        and actual.feature = forecasts.feature
        and actual.week_start = forecasts.week_start
    inner join series as last_week
        on last_week.level = forecasts.level
        and equal_null(last_week.organisation_id, forecasts.organisation_id)
        and last_week.feature = forecasts.feature
        and last_week.week_start = {{ add_days(-7, 'origins.origin') }}

),

final as (

    select
        level, organisation_id, feature, 'cortex_forecast' as model, origin, week_start,
        actual, forecast, naive_forecast, lower_80, upper_80, lower_95, upper_95,
        'cortex' as backend
    from with_actuals
    union all
    select
        level, organisation_id, feature, 'naive' as model, origin, week_start,
        actual, naive_forecast as forecast, naive_forecast,
        cast(null as double) as lower_80, cast(null as double) as upper_80,
        cast(null as double) as lower_95, cast(null as double) as upper_95,
        'cortex' as backend
    from with_actuals

)

select * from final
