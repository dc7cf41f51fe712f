{#
    Every deduplicated feature event whose organisation did not have an allowing option
    on the event date, with the first reason that applies (METRICS.md section 3.4):
    no_entitlement_snapshot -> accurx_staff -> entitlement_changed_nearby ->
    user_from_other_org -> legacy_client -> unexplained.
#}

{%- set nearby_days = var('entitlement_nearby_days') %}

with events as (

    select * from {{ ref('fct_events') }}

),

selected_features as (

    select * from {{ ref('fct_selected_features_daily') }}

),

user_status as (

    select * from {{ ref('fct_user_status_daily') }}

),

usage_rules as (

    select * from {{ ref('usage_rules') }}

),

feature_events as (

    select * from events where feature is not null

),

with_org_option as (

    select
        feature_events.*,
        selected_features.selected_option as org_option
    from feature_events
    left join selected_features
        on feature_events.organisation_id = selected_features.organisation_id
        and feature_events.feature = selected_features.feature
        and feature_events.event_date = selected_features.date

),

allowing_options as (

    select distinct
        event_name,
        attachment_condition,
        lower(trim(allowed_option)) as allowed_option
    from usage_rules

),

unpaid as (

    select with_org_option.*
    from with_org_option
    left join allowing_options
        on with_org_option.event_name = allowing_options.event_name
        and with_org_option.usage_rule_condition = allowing_options.attachment_condition
        and lower(with_org_option.org_option) = allowing_options.allowed_option
    where allowing_options.allowed_option is null

),

allowed_nearby as (

    -- Known days within N days before or after (not the day itself) with an allowing option.
    select distinct unpaid.message_id
    from unpaid
    inner join selected_features
        on unpaid.organisation_id = selected_features.organisation_id
        and unpaid.feature = selected_features.feature
        and selected_features.date >= {{ add_days(-nearby_days, 'unpaid.event_date') }}
        and selected_features.date <= {{ add_days(nearby_days, 'unpaid.event_date') }}
        and selected_features.date <> unpaid.event_date
    inner join allowing_options
        on unpaid.event_name = allowing_options.event_name
        and unpaid.usage_rule_condition = allowing_options.attachment_condition
        and lower(selected_features.selected_option) = allowing_options.allowed_option

),

explained as (

    select
        unpaid.*,
        user_status.organisation_id as user_export_organisation_id,
        -- Worded, in this order, by the seed unpaid_reason_definitions.
        case
            when unpaid.org_option is null then 'no_entitlement_snapshot'
            when unpaid.is_accurx_staff then 'accurx_staff'
            when allowed_nearby.message_id is not null then 'entitlement_changed_nearby'
            when user_status.organisation_id <> unpaid.organisation_id then 'user_from_other_org'
            when unpaid.event_version < {{ var('enforcing_event_version') }} then 'legacy_client'
            else 'unexplained'
        end as reason
    from unpaid
    left join allowed_nearby
        on unpaid.message_id = allowed_nearby.message_id
    left join user_status
        on unpaid.user_id = user_status.user_id
        and unpaid.event_date = user_status.date

),

final as (

    select
        message_id,
        event_timestamp,
        event_date as date,
        week_start,
        organisation_id,
        user_id,
        event_name,
        feature,
        required_options,
        org_option,
        reason,
        event_user_type,
        event_version,
        user_export_organisation_id
    from explained

)

-- Stored in organisation order: a per-organisation read skips most of the table.
select * from final
order by organisation_id, event_timestamp
