with feature_retention_cohorts as (

    select * from {{ ref('fct_feature_retention_cohorts') }}

),

final as (

    select
        feature,
        cohort_month,
        months_since_start,
        cohort_size,
        retained,
        retention_rate,
        is_left_censored
    from feature_retention_cohorts

)

select * from final
