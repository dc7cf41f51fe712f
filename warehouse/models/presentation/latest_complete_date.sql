{# One row: the latest complete export date ("currently"); no row when no date qualifies. #}

with export_coverage as (

    select * from {{ ref('fct_export_coverage_daily') }}

),

final as (

    select date as as_of_date
    from export_coverage
    where is_complete
    qualify row_number() over (order by date desc) = 1

)

select * from final
