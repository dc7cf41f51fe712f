{#
    The current churn risk: every organisation and feature enabled on the latest
    complete export date, scored as of that date. Backs "04_PRESENTATION".churn_risk.
#}

with scored as (

    select * from {{ ref('int_churn_risk__scored') }}

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
    from scored
    where is_current
        and last_known_date = as_of_date

)

select * from final
order by organisation_id, feature
