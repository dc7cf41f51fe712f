{#
    Every user seen in a USER export or as the author of a modeled event, with the
    attributes of their latest USER export row (null when never exported). Names and
    e-mail addresses stay in the raw layer: the dashboard does not need them.
#}

with user_status as (

    select * from {{ ref('fct_user_status_daily') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

latest_export_row as (

    select *
    from user_status
    qualify row_number() over (partition by user_id order by date desc) = 1

),

export_span as (

    select
        user_id,
        min(date) as first_export_date,
        max(date) as last_export_date
    from user_status
    group by user_id

),

all_users as (

    select user_id from user_status
    union
    select user_id from events

),

final as (

    select
        all_users.user_id,
        latest_export_row.organisation_id,
        latest_export_row.role,
        latest_export_row.is_admin,
        latest_export_row.status,
        latest_export_row.created_at,
        export_span.first_export_date,
        export_span.last_export_date,
        export_span.user_id is not null as is_in_user_export
    from all_users
    left join latest_export_row
        on all_users.user_id = latest_export_row.user_id
    left join export_span
        on all_users.user_id = export_span.user_id

)

select * from final
