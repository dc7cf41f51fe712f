{#
    Every raw FEATURE row, classified: quarantined (with its reason), kept by the export
    dedup, or a duplicate the dedup removed. Quarantine is decided first; the dedup only
    ranks rows that passed it (METRICS.md sections 2 and 4).
#}

with feature_exports as (

    select * from {{ ref('stg_raw__feature_exports') }}

),

checked as (

    select
        *,
        case
            when not is_valid_json then 'invalid_json'
            when organisation_id is null then 'missing_key'
            when export_date is null or file_loaded_day is null then 'unparseable_date'
        end as quarantine_reason
    from feature_exports

),

recorded as (

    -- The raw record only for quarantined rows; the wide raw text goes no further
    -- (carrying it through the dedup's window would cost more than everything else).
    select
        *,
        case
            when quarantine_reason is not null then {{ json_object_text([
                ('EXPORT_DATE', 'export_date_text'),
                ('FILENAME', 'filename'),
                ('FILE_ROW_NO', 'file_row_no_text'),
                ('FILE_LOADED_DAY', 'file_loaded_day_text'),
                ('PAYLOAD', 'payload_text'),
            ]) }}
        end as raw_record
    from checked

),

ranked as (

    select
        *,
        row_number() over (
            partition by quarantine_reason is null, organisation_id, export_date
            order by
                file_loaded_day desc,
                filename desc nulls last,
                file_row_no desc nulls last,
                source_file_id desc nulls last,
                source_row desc nulls last
        ) as export_rank
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
