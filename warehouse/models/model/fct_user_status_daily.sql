{#
    User status per USER export date (after the export dedup): one row per user and
    export date. A user is active on D when that day's row has status Active (trimmed,
    case-insensitive) and belongs to that row's organisation.
#}

with user_exports as (

    select * from {{ ref('int_user_exports__classified') }}

),

final as (

    select
        user_id,
        export_date as date,
        organisation_id,
        status,
        coalesce(lower(status) = 'active', false) as is_active,
        role,
        is_admin,
        created_at
    from user_exports
    where is_kept

)

select * from final
