{#
    Per raw table: raw rows = modeled rows + duplicate rows + quarantined rows (tested).
    A line the load could not read as CSV counts as a raw row and a quarantined one.
#}

with events as (

    select * from {{ ref('int_events__classified') }}

),

feature_exports as (

    select * from {{ ref('int_feature_exports__classified') }}

),

user_exports as (

    select * from {{ ref('int_user_exports__classified') }}

),

load_rejects as (

    select * from {{ ref('stg_raw__load_rejects') }}

),

rejected_per_table as (

    select source_table, count(*) as rejected_lines
    from load_rejects
    group by source_table

),

unioned as (

    {% for source_table, relation in [('EVENT', 'events'), ('FEATURE', 'feature_exports'), ('USER', 'user_exports')] %}
    select
        '{{ source_table }}' as source_table,
        count(*) as raw_rows,
        sum(case when is_kept then 1 else 0 end) as modeled_rows,
        sum(case when is_duplicate then 1 else 0 end) as duplicate_rows,
        sum(case when quarantine_reason is not null then 1 else 0 end) as quarantined_rows
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        cast(unioned.source_table as {{ dbt.type_string() }}) as source_table,
        cast(unioned.raw_rows + coalesce(rejected_per_table.rejected_lines, 0) as {{ dbt.type_bigint() }}) as raw_rows,
        cast(coalesce(unioned.modeled_rows, 0) as {{ dbt.type_bigint() }}) as modeled_rows,
        cast(coalesce(unioned.duplicate_rows, 0) as {{ dbt.type_bigint() }}) as duplicate_rows,
        cast(
            coalesce(unioned.quarantined_rows, 0) + coalesce(rejected_per_table.rejected_lines, 0)
            as {{ dbt.type_bigint() }}
        ) as quarantined_rows
    from unioned
    left join rejected_per_table
        on unioned.source_table = rejected_per_table.source_table

)

select * from final
