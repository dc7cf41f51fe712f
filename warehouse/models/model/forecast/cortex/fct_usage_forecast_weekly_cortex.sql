{#
    Usage forecasts on Snowflake: SNOWFLAKE.ML.FORECAST (Cortex), trained by this model's
    pre-hook on training set 0, 12 weeks ahead, called twice (80% and 95% intervals) and
    mapped onto the contract's columns (macros/cortex_forecast.sql). Series with fewer
    than 12 weeks of history get 'insufficient_history' rows, as on DuckDB.
#}

{{ config(pre_hook="{{ cortex_train_usage_forecast(0) }}") }}

with series as (

    select * from {{ ref('int_usage_forecast_series') }}

),

forecast_80 as (

    select * from {{ cortex_usage_forecast_rows(0, 12, 0.8) }}

),

forecast_95 as (

    select * from {{ cortex_usage_forecast_rows(0, 12, 0.95) }}

),

training_end as (

    select distinct trained_through from series

),

forecast as (

    {{ cortex_usage_forecast_to_contract('forecast_80', 'forecast_95') }}

),

modelled as (

    select
        forecast.*,
        'cortex_forecast' as model
    from forecast

),

short_series as (

    select distinct level, organisation_id, feature, trained_through
    from series
    where history_weeks < 12

),

future_steps as (

    {%- for step in range(1, 13) %}
    select {{ step }} as step{% if not loop.last %} union all{% endif %}
    {%- endfor %}

),

insufficient as (

    select
        short_series.level,
        short_series.organisation_id,
        short_series.feature,
        {{ add_days('7 * future_steps.step', 'short_series.trained_through') }} as week_start,
        cast(null as double) as forecast,
        cast(null as double) as lower_80,
        cast(null as double) as upper_80,
        cast(null as double) as lower_95,
        cast(null as double) as upper_95,
        'insufficient_history' as model
    from short_series
    cross join future_steps

),

final as (

    select
        combined.level,
        combined.organisation_id,
        combined.feature,
        combined.week_start,
        combined.forecast,
        combined.lower_80,
        combined.upper_80,
        combined.lower_95,
        combined.upper_95,
        combined.model,
        training_end.trained_through,
        'cortex' as backend
    from (
        select * from modelled
        union all
        select * from insufficient
    ) as combined
    cross join training_end

)

select * from final
