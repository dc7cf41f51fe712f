with churn_risk_backtest as (

    select * from {{ ref('fct_churn_risk_backtest') }}

),

final as (

    select
        as_of_date,
        pairs,
        cancellations,
        base_rate,
        auc,
        auc_lower_95,
        auc_upper_95,
        precision_at_20
    from churn_risk_backtest

)

select * from final
