-- Nothing is silently dropped: every raw EVENT, FEATURE and USER row is classified
-- (compares the raw tables' row counts with data_quality's raw_rows).

with data_quality as (

    select * from {{ ref('fct_data_quality') }}

),

raw_counts as (

    select 'EVENT' as source_table, count(*) as raw_rows from {{ source('raw', 'EVENT') }}
    union all
    select 'FEATURE' as source_table, count(*) as raw_rows from {{ source('raw', 'FEATURE') }}
    union all
    select 'USER' as source_table, count(*) as raw_rows from {{ source('raw', 'USER') }}

),

final as (

    select raw_counts.source_table, raw_counts.raw_rows, data_quality.raw_rows as classified_rows
    from raw_counts
    left join data_quality
        on raw_counts.source_table = data_quality.source_table
    where data_quality.raw_rows is null or data_quality.raw_rows <> raw_counts.raw_rows

)

select * from final
