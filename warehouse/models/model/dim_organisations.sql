{#
    Every organisation with a (non-quarantined, deduplicated) FEATURE row. The name comes
    from the optional ORGANISATION reference table (latest loaded row per id), else
    "Organisation <id>"; region is null when unknown.
#}

with feature_exports as (

    select * from {{ ref('int_feature_exports__classified') }}

),

reference as (

    select * from {{ ref('stg_raw__organisations') }}

),

export_span as (

    select
        organisation_id,
        min(export_date) as first_export_date,
        max(export_date) as last_export_date
    from feature_exports
    where is_kept
    group by organisation_id

),

latest_reference as (

    select *
    from reference
    where organisation_id is not null
    qualify row_number() over (
        partition by organisation_id
        order by source_file_id desc nulls last, source_row desc nulls last
    ) = 1

),

final as (

    select
        export_span.organisation_id,
        coalesce(
            latest_reference.organisation_name,
            'Organisation ' || cast(export_span.organisation_id as {{ dbt.type_string() }})
        ) as organisation_name,
        latest_reference.region,
        latest_reference.ods_code,
        export_span.first_export_date,
        export_span.last_export_date
    from export_span
    left join latest_reference
        on export_span.organisation_id = latest_reference.organisation_id

)

select * from final
