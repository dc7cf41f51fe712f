{#
    For every export date and every enabled option: the organisations that had it that
    day and the active users of those organisations that day (0 when no USER export).
    Every (export date, enabled option) pair has a row, zero when nobody had it.
    Counted from fct_org_feature_daily, the rows the Access tab lists under a card, so
    a card's totals are the sums of its list by construction.
#}

with org_feature_daily as (

    select * from {{ ref('fct_org_feature_daily') }}

),

export_coverage as (

    select * from {{ ref('fct_export_coverage_daily') }}

),

features as (

    select * from {{ ref('dim_features') }}

),

grid as (

    select
        export_coverage.date,
        features.feature,
        features.option as selected_option
    from export_coverage
    cross join features
    where features.is_enabled

),

enabled_organisations as (

    select
        date,
        feature,
        selected_option,
        count(*) as org_count,
        sum(active_user_count) as active_user_count
    from org_feature_daily
    where is_enabled
    group by date, feature, selected_option

),

final as (

    select
        grid.date,
        grid.feature,
        grid.selected_option,
        cast(coalesce(enabled_organisations.org_count, 0) as {{ dbt.type_bigint() }}) as org_count,
        cast(coalesce(enabled_organisations.active_user_count, 0) as {{ dbt.type_bigint() }}) as active_user_count
    from grid
    left join enabled_organisations
        on grid.date = enabled_organisations.date
        and grid.feature = enabled_organisations.feature
        and grid.selected_option = enabled_organisations.selected_option

)

select * from final
