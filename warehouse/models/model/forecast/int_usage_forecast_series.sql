{#
    The weekly series the usage forecasts learn from (METRICS.md section 5), one row per
    series and week, on both targets: level 'feature' (all organisations, organisation_id
    null) and level 'organisation' (one series per organisation and feature). Only
    complete ISO weeks: trained_through is the Monday of the last ISO week whose Sunday is
    on or before the latest FEATURE export date, and the data's first week counts only
    when the data starts on its Monday (a partial first week is not a fall in usage, and
    a forecast learning from it would see one). A series starts at its first week with
    days_enabled > 0 or events > 0 (every row of the usage fact qualifies); later weeks
    without a row are 0. history_weeks counts the series' weeks up to trained_through.
#}

with usage_weekly as (

    select * from {{ ref('fct_org_feature_usage_weekly') }}

),

export_coverage as (

    select * from {{ ref('fct_export_coverage_daily') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

training_end as (

    -- The Monday of the week after the latest export date's day, minus one week: the
    -- latest export's own week when it is a Sunday, else the week before.
    select
        {{ add_days(-7, iso_week_start(add_days(1, 'max(date)'))) }} as trained_through
    from export_coverage

),

first_complete_week as (

    -- The first Monday on or after the data's first day.
    select {{ iso_week_start(add_days(6, 'min(date)')) }} as week_start
    from dates

),

weeks as (

    select distinct dates.week_start
    from dates
    cross join training_end
    cross join first_complete_week
    where dates.week_start <= training_end.trained_through
        and dates.week_start >= first_complete_week.week_start

),

organisation_weeks as (

    select
        'organisation' as level,
        organisation_id,
        feature,
        week_start,
        events
    from usage_weekly

),

feature_weeks as (

    select
        'feature' as level,
        cast(null as {{ dbt.type_bigint() }}) as organisation_id,
        feature,
        week_start,
        sum(events) as events
    from usage_weekly
    group by feature, week_start

),

observed as (

    select all_weeks.*
    from (
        select * from organisation_weeks
        union all
        select * from feature_weeks
    ) as all_weeks
    inner join weeks
        on all_weeks.week_start = weeks.week_start

),

series_starts as (

    select
        level,
        organisation_id,
        feature,
        min(week_start) as series_start
    from observed
    group by level, organisation_id, feature

),

filled as (

    select
        series_starts.level,
        series_starts.organisation_id,
        series_starts.feature,
        weeks.week_start,
        series_starts.series_start,
        cast(coalesce(observed.events, 0) as double) as events
    from series_starts
    inner join weeks
        on weeks.week_start >= series_starts.series_start
    left join observed
        on observed.level = series_starts.level
        and observed.organisation_id is not distinct from series_starts.organisation_id
        and observed.feature = series_starts.feature
        and observed.week_start = weeks.week_start

),

final as (

    select
        filled.level,
        filled.organisation_id,
        filled.feature,
        filled.week_start,
        filled.events,
        filled.series_start,
        training_end.trained_through,
        cast(
            {{ dbt.datediff('filled.series_start', 'training_end.trained_through', 'day') }} / 7 + 1
            as {{ dbt.type_int() }}
        ) as history_weeks
    from filled
    cross join training_end

)

select * from final
order by level, organisation_id, feature, week_start
