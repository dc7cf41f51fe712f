{#
    Retention by feature and cohort. An organisation's cohort_month is the month of its
    first enabled known day for the feature; it is left-censored when that day is also
    its first known day for the feature (it started before the data). It is retained at
    month k when enabled on its last known day of month cohort_month + k (not retained
    without a known day that month). Months run up to the month of the latest export date.
#}

with selected_features as (

    select * from {{ ref('fct_selected_features_daily') }}

),

export_coverage as (

    select * from {{ ref('fct_export_coverage_daily') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

latest_export as (

    select {{ month_start('max(date)') }} as latest_export_month from export_coverage

),

starts as (

    select
        organisation_id,
        feature,
        min(date) as first_known_date,
        min(case when is_enabled then date end) as first_enabled_date
    from selected_features
    group by organisation_id, feature

),

cohort_members as (

    select
        organisation_id,
        feature,
        {{ month_start('first_enabled_date') }} as cohort_month,
        first_enabled_date = first_known_date as is_left_censored
    from starts
    where first_enabled_date is not null

),

months as (

    select distinct dates.month_start
    from dates
    cross join latest_export
    where dates.month_start <= latest_export.latest_export_month

),

month_end_state as (

    select
        organisation_id,
        feature,
        month_start,
        is_enabled
    from selected_features
    qualify row_number() over (
        partition by organisation_id, feature, month_start order by date desc
    ) = 1

),

member_months as (

    select
        cohort_members.organisation_id,
        cohort_members.feature,
        cohort_members.cohort_month,
        cohort_members.is_left_censored,
        months.month_start,
        {{ dbt.datediff('cohort_members.cohort_month', 'months.month_start', 'month') }} as months_since_start
    from cohort_members
    inner join months
        on months.month_start >= cohort_members.cohort_month

),

retention as (

    select
        member_months.feature,
        member_months.cohort_month,
        member_months.is_left_censored,
        member_months.months_since_start,
        count(*) as cohort_size,
        sum(case when month_end_state.is_enabled then 1 else 0 end) as retained
    from member_months
    left join month_end_state
        on member_months.organisation_id = month_end_state.organisation_id
        and member_months.feature = month_end_state.feature
        and member_months.month_start = month_end_state.month_start
    group by
        member_months.feature,
        member_months.cohort_month,
        member_months.is_left_censored,
        member_months.months_since_start

),

final as (

    select
        feature,
        cohort_month,
        cast(months_since_start as {{ dbt.type_int() }}) as months_since_start,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(retained as {{ dbt.type_bigint() }}) as retained,
        cast(retained as double) / cohort_size as retention_rate,
        is_left_censored
    from retention

)

select * from final
