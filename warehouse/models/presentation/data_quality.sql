with data_quality as (

    select * from {{ ref('fct_data_quality') }}

),

final as (

    select
        source_table,
        raw_rows,
        modeled_rows,
        duplicate_rows,
        quarantined_rows
    from data_quality

)

select * from final
