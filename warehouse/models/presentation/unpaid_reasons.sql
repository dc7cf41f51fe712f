with unpaid_reason_definitions as (

    select * from {{ ref('unpaid_reason_definitions') }}

),

final as (

    select
        reason,
        label,
        explanation,
        display_order,
        colour
    from unpaid_reason_definitions

)

select * from final
