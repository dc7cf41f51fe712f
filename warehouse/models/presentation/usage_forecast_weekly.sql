{# The forecast of the target's backend: the local model on DuckDB, Cortex on Snowflake. #}

with usage_forecast as (

    {% if target.type == 'snowflake' -%}
    select * from {{ ref('fct_usage_forecast_weekly_cortex') }}
    {%- else -%}
    select * from {{ ref('fct_usage_forecast_weekly_local') }}
    {%- endif %}

),

final as (

    select
        cast(level as varchar) as level,
        cast(organisation_id as {{ dbt.type_bigint() }}) as organisation_id,
        cast(feature as varchar) as feature,
        cast(week_start as date) as week_start,
        cast(forecast as double) as forecast,
        cast(lower_80 as double) as lower_80,
        cast(upper_80 as double) as upper_80,
        cast(lower_95 as double) as lower_95,
        cast(upper_95 as double) as upper_95,
        cast(model as varchar) as model,
        cast(trained_through as date) as trained_through,
        cast(backend as varchar) as backend
    from usage_forecast

)

select * from final
