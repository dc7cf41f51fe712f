{#
    Every raw USER row, classified like int_feature_exports__classified: quarantined,
    kept by the export dedup per (user, EXPORT_DATE), or a removed duplicate.
#}

with user_exports as (

    select * from {{ ref('stg_raw__user_exports') }}

),

checked as (

    select
        *,
        case
            when not is_valid_json then 'invalid_json'
            when user_id is null or organisation_id is null then 'missing_key'
            when export_date is null or file_loaded_day is null then 'unparseable_date'
        end as quarantine_reason
    from user_exports

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
            partition by quarantine_reason is null, user_id, export_date
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
        source_file,
        source_row,
        user_id,
        export_date,
        organisation_id,
        created_at,
        is_admin,
        role,
        status,
        quarantine_reason,
        quarantine_reason is null and export_rank = 1 as is_kept,
        quarantine_reason is null and export_rank > 1 as is_duplicate,
        raw_record
    from ranked

)

select * from final
