-- data_quality's modeled and quarantined counts are the rows actually in fct_events,
-- the kept export rows and the quarantine: returns a row per disagreement.

with data_quality as (

    select * from {{ ref('fct_data_quality') }}

),

quarantine as (

    select * from {{ ref('fct_quarantine') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

quarantined_per_table as (

    select source_table, count(*) as quarantined_rows
    from quarantine
    group by source_table

),

modeled_events as (

    select 'EVENT' as source_table, count(*) as modeled_rows from events

),

final as (

    select data_quality.*
    from data_quality
    left join quarantined_per_table
        on data_quality.source_table = quarantined_per_table.source_table
    left join modeled_events
        on data_quality.source_table = modeled_events.source_table
    where data_quality.quarantined_rows <> coalesce(quarantined_per_table.quarantined_rows, 0)
        or (modeled_events.source_table is not null
            and data_quality.modeled_rows <> modeled_events.modeled_rows)

)

select * from final
