{#
    Every quarantined raw row with its reason and its raw record (JSON text of the raw
    columns), and every line the load could not read as CSV (reason malformed_csv_line,
    the line's text as record, its line number as source_row). Personal keys are
    redacted from both: this table feeds the quarantine presentation view.
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

    union all

    select
        source_table,
        'malformed_csv_line' as reason,
        {{ redact_personal_keys('csv_line') }} as raw_record,
        source_file,
        line_number as source_row
    from load_rejects

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
