{#
    Every raw EVENT row, classified: quarantined (first reason that applies:
    invalid_json -> missing_key -> unparseable_date -> unknown_organisation), kept, or a
    duplicate of a kept event. Quarantine is decided before the dedup; of duplicates the
    earliest EVENT_TIMESTAMP, then the first read (load order), is kept.
#}

with events as (

    select * from {{ ref('stg_raw__events') }}

),

feature_exports as (

    select * from {{ ref('int_feature_exports__classified') }}

),

known_organisations as (

    -- "Appears in a FEATURE export": at least one non-quarantined FEATURE row.
    select distinct organisation_id
    from feature_exports
    where quarantine_reason is null

),

checked as (

    select
        events.*,
        case
            when not events.is_valid_json then 'invalid_json'
            when events.message_id is null
                or events.organisation_id is null
                or events.user_id is null then 'missing_key'
            when events.event_timestamp is null then 'unparseable_date'
            when known_organisations.organisation_id is null then 'unknown_organisation'
        end as quarantine_reason
    from events
    left join known_organisations
        on events.organisation_id = known_organisations.organisation_id

),

recorded as (

    -- The raw record only for quarantined rows; the wide raw text goes no further
    -- (carrying it through the dedup's window would cost more than everything else).
    select
        *,
        {{ quarantined_raw_record([
            ('EVENT_NAME', 'event_name'),
            ('EVENT_TIMESTAMP', 'event_timestamp_text'),
            ('PAYLOAD', 'payload_text'),
        ]) }} as raw_record
    from checked

),

ranked as (

    select
        *,
        row_number() over (
            partition by quarantine_reason is null, message_id
            order by event_timestamp, source_file_id, source_row
        ) as message_rank
    from recorded

),

final as (

    select
        source_file_id,
        source_file,
        source_row,
        message_id,
        event_timestamp,
        event_name,
        organisation_id,
        user_id,
        event_user_type,
        event_version,
        message_type,
        message_length,
        count_attachment,
        has_error,
        product_origin,
        source_type,
        quarantine_reason,
        quarantine_reason is null and message_rank = 1 as is_kept,
        quarantine_reason is null and message_rank > 1 as is_duplicate,
        raw_record
    from ranked

)

select * from final
