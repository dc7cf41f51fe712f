{#
    SNOWFLAKE.ML.FORECAST (Cortex) for the usage forecasts on the Snowflake target
    (models/model/forecast/cortex/). Training set 0 is the forecast (all complete weeks);
    sets 1-8 are the back-test origins trained_through - 10 weeks .. - 3 weeks, each
    trained on the weeks before its origin only (int_usage_forecast_training_cortex).

    var('cortex_stub') (set by the fakesnow smoke build only, which has no Cortex) replaces
    training with nothing and each !FORECAST call with a stub query returning Cortex's
    documented columns (SERIES, TS, FORECAST, LOWER_BOUND, UPPER_BOUND): last week again,
    with bounds that go below 0 for small series, so the mapping's clipping is exercised.
#}

{% macro cortex_usage_forecast_model(training_set) -%}
    {{ this.database }}.{{ adapter.quote(this.schema) }}.usage_forecast_cortex_{{ training_set }}
{%- endmacro %}


{# One training: a pre-hook of the model that reads its forecasts. Only SERIES, TS and Y
   are selected: any other column would become an exogenous variable. #}
{% macro cortex_train_usage_forecast(training_set) -%}
    {%- if var('cortex_stub', false) -%}
    select 'cortex stub: no training' as skipped
    {%- else -%}
    create or replace snowflake.ml.forecast {{ cortex_usage_forecast_model(training_set) }}(
        input_data => system$query_reference(
            'select series, ts, y from {{ ref("int_usage_forecast_training_cortex") }} where training_set = {{ training_set }}'
        ),
        series_colname => 'SERIES',
        timestamp_colname => 'TS',
        target_colname => 'Y'
    )
    {%- endif -%}
{%- endmacro %}


{# The rows of one !FORECAST call: SERIES, TS, FORECAST, LOWER_BOUND, UPPER_BOUND. #}
{% macro cortex_usage_forecast_rows(training_set, periods, prediction_interval) -%}
    {%- if var('cortex_stub', false) -%}
    (
        select
            last_week.series,
            cast(dateadd(week, steps.step, last_week.ts) as timestamp_ntz) as ts,
            last_week.y as forecast,
            last_week.y - last_week.y * ({{ prediction_interval }} - 0.5) - 1 as lower_bound,
            last_week.y + last_week.y * ({{ prediction_interval }} - 0.5) + 1 as upper_bound
        from (
            select series, ts, y
            from {{ ref('int_usage_forecast_training_cortex') }}
            where training_set = {{ training_set }}
            qualify row_number() over (partition by series order by ts desc) = 1
        ) as last_week
        cross join (
            {%- for step in range(1, periods + 1) %}
            select {{ step }} as step{% if not loop.last %} union all{% endif %}
            {%- endfor %}
        ) as steps
    )
    {%- else -%}
    table({{ cortex_usage_forecast_model(training_set) }}!forecast(
        forecasting_periods => {{ periods }},
        config_object => {'prediction_interval': {{ prediction_interval }}}
    ))
    {%- endif -%}
{%- endmacro %}


{# Cortex's two calls (80% and 95%) as the contract's columns: the series VARIANT
   [level, organisation_id, feature] unpacked, TS as the week's Monday, every number
   clipped at 0. #}
{% macro cortex_usage_forecast_to_contract(forecast_80, forecast_95) -%}
    select
        cast(forecast_80.series[0] as varchar) as level,
        cast(forecast_80.series[1] as bigint) as organisation_id,
        cast(forecast_80.series[2] as varchar) as feature,
        cast(forecast_80.ts as date) as week_start,
        cast(greatest(forecast_80.forecast, 0) as double) as forecast,
        cast(greatest(forecast_80.lower_bound, 0) as double) as lower_80,
        cast(greatest(forecast_80.upper_bound, 0) as double) as upper_80,
        cast(greatest(forecast_95.lower_bound, 0) as double) as lower_95,
        cast(greatest(forecast_95.upper_bound, 0) as double) as upper_95
    from {{ forecast_80 }} as forecast_80
    inner join {{ forecast_95 }} as forecast_95
        on forecast_80.series = forecast_95.series
        and forecast_80.ts = forecast_95.ts
{%- endmacro %}
