{#
    One row per calendar day from the first to the last date of the data (FEATURE
    exports and events), with its ISO week start and month start.
#}

with export_coverage as (

    select * from {{ ref('fct_export_coverage_daily') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

bounds as (

    select min(first_date) as first_date, max(last_date) as last_date
    from (
        select min(date) as first_date, max(date) as last_date from export_coverage
        union all
        select min(event_date) as first_date, max(event_date) as last_date from events
    ) as spans

),

day_numbers as (

    -- Up to ~22 years of data; relationships tests from the facts catch a shorter spine.
    {{ dbt.generate_series(8192) }}

),

spine as (

    select {{ add_days('day_numbers.generated_number - 1', 'bounds.first_date') }} as date
    from day_numbers
    cross join bounds
    where day_numbers.generated_number - 1
        <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}

),

final as (

    select
        date,
        {{ iso_week_start('date') }} as week_start,
        {{ month_start('date') }} as month_start,
        cast(extract(year from date) as {{ dbt.type_int() }}) as year
    from spine

)

select * from final
