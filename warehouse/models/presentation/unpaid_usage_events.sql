with unpaid_usage_events as (

    select * from {{ ref('fct_unpaid_usage_events') }}

),

final as (

    select
        message_id,
        event_timestamp,
        date,
        organisation_id,
        user_id,
        event_name,
        feature,
        required_options,
        org_option,
        reason,
        week_start,
        event_user_type,
        event_version
    from unpaid_usage_events

)

select * from final
