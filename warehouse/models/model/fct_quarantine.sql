{# Every quarantined raw row with its reason and its raw record (JSON text of the raw columns). #}

with events as (

    select * from {{ ref('int_events__classified') }}

),

feature_exports as (

    select * from {{ ref('int_feature_exports__classified') }}

),

user_exports as (

    select * from {{ ref('int_user_exports__classified') }}

),

unioned as (

    select 'EVENT' as source_table, quarantine_reason as reason, raw_record, source_file, source_row
    from events
    where quarantine_reason is not null

    union all

    select 'FEATURE' as source_table, quarantine_reason as reason, raw_record, source_file, source_row
    from feature_exports
    where quarantine_reason is not null

    union all

    select 'USER' as source_table, quarantine_reason as reason, raw_record, source_file, source_row
    from user_exports
    where quarantine_reason is not null

),

final as (

    select
        cast(source_table as {{ dbt.type_string() }}) as source_table,
        cast(reason as {{ dbt.type_string() }}) as reason,
        raw_record,
        source_file,
        source_row
    from unioned

)

select * from final
