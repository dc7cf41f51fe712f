{#
    Deduplicated, non-quarantined events with their usage rule: `feature` is the feature
    the event uses (null for a non-feature event) and `required_options` the options
    that allow it. A missing or null countAttachment reads as 0.
#}

with events as (

    select * from {{ ref('int_events__classified') }}

),

usage_rules as (

    select * from {{ ref('int_usage_rules') }}

),

kept_events as (

    select * from events where is_kept

),

with_rule as (

    select
        kept_events.*,
        usage_rules.feature,
        usage_rules.attachment_condition as usage_rule_condition,
        usage_rules.required_options
    from kept_events
    left join usage_rules
        on kept_events.event_name = usage_rules.event_name
        and (
            usage_rules.attachment_condition = 'any'
            or (usage_rules.attachment_condition = 'none' and coalesce(kept_events.count_attachment, 0) = 0)
            or (usage_rules.attachment_condition = 'some' and kept_events.count_attachment > 0)
        )

),

final as (

    select
        message_id,
        event_timestamp,
        cast(event_timestamp as date) as event_date,
        {{ iso_week_start('cast(event_timestamp as date)') }} as week_start,
        event_name,
        organisation_id,
        user_id,
        event_user_type,
        lower(trim(event_user_type)) = 'accurxsupport' as is_accurx_staff,
        event_version,
        message_type,
        message_length,
        coalesce(count_attachment, 0) as count_attachment,
        has_error,
        product_origin,
        source_type,
        feature,
        usage_rule_condition,
        required_options,
        source_file,
        source_row
    from with_rule

)

select * from final
