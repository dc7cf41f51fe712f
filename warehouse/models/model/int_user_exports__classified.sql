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
        {{ export_quarantine_reason(['user_id', 'organisation_id']) }} as quarantine_reason
    from user_exports

),

recorded as (

    -- The raw record only for quarantined rows; the wide raw text goes no further
    -- (carrying it through the dedup's window would cost more than everything else).
    -- Names and e-mail addresses are redacted: this record reaches the quarantine view.
    select
        *,
        {{ quarantined_export_record(payload_text=redact_personal_keys('payload_text')) }} as raw_record
    from checked

),

ranked as (

    select
        *,
        {{ export_dedup_rank('user_id') }} as export_rank
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
