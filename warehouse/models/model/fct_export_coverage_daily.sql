{#
    One row per FEATURE export date (a date with at least one kept FEATURE row): how many
    organisations it covers, its coverage of the previous export date's organisations,
    whether a USER export exists, and whether it is complete:
    coverage >= export_coverage_threshold_percent (exactly the threshold counts; the first
    export date counts as covered) and a USER export exists that date.
#}

with feature_exports as (

    select * from {{ ref('int_feature_exports__classified') }}

),

user_exports as (

    select * from {{ ref('int_user_exports__classified') }}

),

export_organisations as (

    select distinct export_date, organisation_id
    from feature_exports
    where is_kept

),

export_dates as (

    select
        export_date,
        count(*) as organisation_count
    from export_organisations
    group by export_date

),

sequenced as (

    select
        export_date,
        organisation_count,
        lag(export_date) over (order by export_date) as previous_export_date,
        lag(organisation_count) over (order by export_date) as previous_organisation_count
    from export_dates

),

covered as (

    select
        sequenced.export_date,
        count(*) as covered_organisation_count
    from sequenced
    inner join export_organisations as previous_day
        on previous_day.export_date = sequenced.previous_export_date
    inner join export_organisations as this_day
        on this_day.export_date = sequenced.export_date
        and this_day.organisation_id = previous_day.organisation_id
    group by sequenced.export_date

),

user_export_dates as (

    select distinct export_date
    from user_exports
    where quarantine_reason is null

),

final as (

    select
        sequenced.export_date as date,
        cast(sequenced.organisation_count as {{ dbt.type_bigint() }}) as organisation_count,
        sequenced.previous_export_date,
        cast(sequenced.previous_organisation_count as {{ dbt.type_bigint() }}) as previous_organisation_count,
        cast(coalesce(covered.covered_organisation_count, 0) as {{ dbt.type_bigint() }}) as covered_organisation_count,
        case
            when sequenced.previous_export_date is not null
                then cast(coalesce(covered.covered_organisation_count, 0) as double)
                    / sequenced.previous_organisation_count
        end as coverage,
        user_export_dates.export_date is not null as has_user_export,
        (
            sequenced.previous_export_date is null
            or 100 * coalesce(covered.covered_organisation_count, 0)
                >= {{ var('export_coverage_threshold_percent') }} * sequenced.previous_organisation_count
        ) and user_export_dates.export_date is not null as is_complete
    from sequenced
    left join covered
        on sequenced.export_date = covered.export_date
    left join user_export_dates
        on sequenced.export_date = user_export_dates.export_date

)

select * from final
