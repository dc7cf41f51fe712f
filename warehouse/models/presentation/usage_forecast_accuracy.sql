with usage_forecast_accuracy as (

    select * from {{ ref('fct_usage_forecast_accuracy') }}

),

final as (

    select
        level,
        organisation_id,
        feature,
        model,
        origins,
        mae,
        wape,
        mase,
        coverage_80,
        coverage_95,
        backend
    from usage_forecast_accuracy

)

select * from final
