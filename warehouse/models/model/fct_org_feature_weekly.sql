{#
    Entitlement per organisation, ISO week and feature over its known days: days known,
    days enabled, the option on the first and last known day, and whether more than one
    option was seen.
#}

with selected_features as (

    select * from {{ ref('fct_selected_features_daily') }}

),

ordered as (

    select
        *,
        row_number() over (
            partition by organisation_id, week_start, feature order by date
        ) as day_from_start,
        row_number() over (
            partition by organisation_id, week_start, feature order by date desc
        ) as day_from_end
    from selected_features

),

final as (

    select
        organisation_id,
        week_start,
        feature,
        cast(count(*) as {{ dbt.type_bigint() }}) as days_known,
        cast(sum(case when is_enabled then 1 else 0 end) as {{ dbt.type_bigint() }}) as days_enabled,
        max(case when day_from_start = 1 then selected_option end) as first_option,
        max(case when day_from_end = 1 then selected_option end) as last_option,
        count(distinct selected_option) > 1 as changed_in_week
    from ordered
    group by organisation_id, week_start, feature

)

-- Stored in organisation order: a per-organisation read skips most of the table.
select * from final
order by organisation_id, week_start
