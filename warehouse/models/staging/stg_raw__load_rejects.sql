with source as (

    select * from {{ source('raw', '_LOAD_REJECTS') }}

),

final as (

    select
        cast(SOURCE_TABLE as {{ dbt.type_string() }}) as source_table,
        cast(SOURCE_FILE as {{ dbt.type_string() }}) as source_file,
        cast(LINE_NUMBER as {{ dbt.type_bigint() }}) as line_number,
        cast(CSV_LINE as {{ dbt.type_string() }}) as csv_line,
        cast(ERROR as {{ dbt.type_string() }}) as error
    from source

)

select * from final
