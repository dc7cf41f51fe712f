{#
  The daily selected-features fact with the organisation's active users that day and its
  name and region: what "04_PRESENTATION".org_feature_daily shows, joined once at build
  time so the view is a plain select (the Access tab lists customers with an option on
  a date from this table alone). Rows are written in (organisation_id, date) order, so a one-customer
  query reads one block of the table (DuckDB prunes row groups by their min/max).
#}

with selected_features_daily as (

    select * from {{ ref('fct_selected_features_daily') }}

),

org_active_users_daily as (

    select * from {{ ref('int_org_active_users_daily') }}

),

organisations as (

    select * from {{ ref('dim_organisations') }}

),

final as (

    select
        selected_features_daily.organisation_id,
        selected_features_daily.date,
        selected_features_daily.feature,
        selected_features_daily.selected_option,
        selected_features_daily.is_enabled,
        selected_features_daily.option_rank,
        selected_features_daily.week_start,
        -- METRICS.md section 4: a day with no USER export has 0 active users.
        coalesce(org_active_users_daily.active_user_count, 0) as active_user_count,
        organisations.organisation_name,
        organisations.region
    from selected_features_daily
    left join org_active_users_daily
        on selected_features_daily.organisation_id = org_active_users_daily.organisation_id
        and selected_features_daily.date = org_active_users_daily.date
    left join organisations
        on selected_features_daily.organisation_id = organisations.organisation_id

)

select * from final
order by organisation_id, date, feature
