{#
    Accuracy of the usage forecasts over the rolling-origin back-test (METRICS.md section
    5, view 8), per series and model, on both targets: the predictions come from the
    local model (DuckDB) or from Cortex (Snowflake), the arithmetic is this one.
    mae = mean |actual - forecast|; wape = sum |error| / sum actual (null when nothing
    happened); mase = mae / mae of the naive forecast (the last week before the origin)
    over the same target weeks (null when the naive forecast made no error);
    coverage_80/_95 = share of target weeks whose actual lies inside the interval.
#}

with backtest as (

    {% if target.type == 'snowflake' -%}
    select * from {{ ref('fct_usage_forecast_backtest_cortex') }}
    {%- else -%}
    select * from {{ ref('fct_usage_forecast_backtest_local') }}
    {%- endif %}

),

errors as (

    select
        level,
        organisation_id,
        feature,
        model,
        backend,
        origin,
        actual,
        abs(actual - forecast) as absolute_error,
        abs(actual - naive_forecast) as naive_absolute_error,
        -- No interval (Cortex's naive rows): no coverage.
        case when lower_80 is null then null when actual between lower_80 and upper_80 then 1.0 else 0.0 end as inside_80,
        case when lower_95 is null then null when actual between lower_95 and upper_95 then 1.0 else 0.0 end as inside_95
    from backtest

),

final as (

    select
        level,
        organisation_id,
        feature,
        model,
        cast(count(distinct origin) as {{ dbt.type_bigint() }}) as origins,
        cast(avg(absolute_error) as double) as mae,
        cast(sum(absolute_error) / nullif(sum(actual), 0) as double) as wape,
        cast(avg(absolute_error) / nullif(avg(naive_absolute_error), 0) as double) as mase,
        cast(avg(inside_80) as double) as coverage_80,
        cast(avg(inside_95) as double) as coverage_95,
        backend
    from errors
    group by level, organisation_id, feature, model, backend

)

select * from final
