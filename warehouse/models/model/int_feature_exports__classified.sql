{#
    Every raw FEATURE row, classified: quarantined (with its reason), kept by the export
    dedup, or a duplicate the dedup removed. Quarantine is decided first; the dedup only
    ranks rows that passed it (METRICS.md sections 2 and 4). Both rules are shared with
    int_user_exports__classified: macros/raw_exports.sql.
#}

with feature_exports as (

    select * from {{ ref('stg_raw__feature_exports') }}

),

checked as (

    select
        *,
        {{ export_quarantine_reason(['organisation_id']) }} as quarantine_reason
    from feature_exports

),

recorded as (

    -- The raw record only for quarantined rows; the wide raw text goes no further
    -- (carrying it through the dedup's window would cost more than everything else).
    select
        *,
        {{ quarantined_export_record() }} as raw_record
    from checked

),

ranked as (

    select
        *,
        {{ export_dedup_rank('organisation_id') }} as export_rank
    from recorded

),

final as (

    select
        source_file_id,
        source_file,
        source_row,
        organisation_id,
        export_date,
        filename,
        file_row_no,
        file_loaded_day,
        quarantine_reason,
        quarantine_reason is null and export_rank = 1 as is_kept,
        quarantine_reason is null and export_rank > 1 as is_duplicate,
        case when quarantine_reason is null and export_rank = 1 then features_json end as features_json,
        raw_record
    from ranked

)

select * from final
