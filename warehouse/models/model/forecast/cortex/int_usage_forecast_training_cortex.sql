{#
    Cortex's training sets (Snowflake only): set 0 = every complete week of the series
    with at least 12 weeks of history (the forecast); sets 1-8 = the back-test origins
    trained_through - 10 weeks .. - 3 weeks, each with the weeks before the origin of the
    series with at least 12 weeks of history before it. In Cortex's input shape: SERIES
    (a VARIANT array [level, organisation_id, feature]), TS (TIMESTAMP_NTZ), Y (FLOAT).
#}

with series as (

    select * from {{ ref('int_usage_forecast_series') }}

),

training_sets as (

    select 0 as training_set, -1 as weeks_before_trained_through
    {%- for training_set in range(1, 9) %}
    union all select {{ training_set }}, {{ 11 - training_set }}
    {%- endfor %}

),

origins as (

    select distinct
        training_sets.training_set,
        {{ add_days('-7 * training_sets.weeks_before_trained_through', 'series.trained_through') }} as origin
    from training_sets
    cross join series

),

final as (

    select
        origins.training_set,
        origins.origin,
        -- One element type (text) keeps the array portable; the mapping casts the id back.
        array_construct(
            series.level, cast(series.organisation_id as varchar), series.feature
        ) as series,
        cast(series.week_start as timestamp_ntz) as ts,
        cast(series.events as float) as y
    from series
    inner join origins
        on series.week_start < origins.origin
        and {{ dbt.datediff('series.series_start', 'origins.origin', 'day') }} >= 7 * 12

)

select * from final
