with quarantine as (

    select * from {{ ref('fct_quarantine') }}

),

final as (

    select
        source_table,
        reason,
        raw_record,
        source_file,
        source_row
    from quarantine

)

select * from final
