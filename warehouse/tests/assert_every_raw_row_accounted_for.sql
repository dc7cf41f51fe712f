-- Nothing is silently dropped: every raw EVENT, FEATURE and USER row is classified
-- (compares the raw tables' row counts, plus the lines the load could not read as CSV,
-- with data_quality's raw_rows).

with data_quality as (

    select * from {{ ref('fct_data_quality') }}

),

raw_tables as (

    select 'EVENT' as source_table, count(*) as raw_rows from {{ source('raw', 'EVENT') }}
    union all
    select 'FEATURE' as source_table, count(*) as raw_rows from {{ source('raw', 'FEATURE') }}
    union all
    select 'USER' as source_table, count(*) as raw_rows from {{ source('raw', 'USER') }}
    union all
    select SOURCE_TABLE as source_table, count(*) as raw_rows from {{ source('raw', '_LOAD_REJECTS') }}
    where SOURCE_TABLE in ('EVENT', 'FEATURE', 'USER')
    group by SOURCE_TABLE

),

raw_counts as (

    select source_table, sum(raw_rows) as raw_rows
    from raw_tables
    group by source_table

),

final as (

    select raw_counts.source_table, raw_counts.raw_rows, data_quality.raw_rows as classified_rows
    from raw_counts
    left join data_quality
        on raw_counts.source_table = data_quality.source_table
    where data_quality.raw_rows is null or data_quality.raw_rows <> raw_counts.raw_rows

)

select * from final
