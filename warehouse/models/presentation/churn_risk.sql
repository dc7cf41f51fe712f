with churn_risk as (

    select * from {{ ref('fct_churn_risk') }}

),

final as (

    select
        as_of_date,
        organisation_id,
        feature,
        risk_score,
        risk_band,
        utilisation,
        usage_trend,
        weeks_since_last_event,
        recent_changes,
        reasons
    from churn_risk

)

select * from final
