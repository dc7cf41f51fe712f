{#
    Per ISO week, feature and option (the option on an organisation's last known day of
    the week, org_feature_weekly.last_option): how many organisations had it and the
    median of their weekly events (0 for one without events). The customer page's peers:
    every organisation with the same feature and option that week, the customer included.
    The same for every customer, so computed once here rather than per page.
#}

with org_feature_weekly as (

    select * from {{ ref('fct_org_feature_weekly') }}

),

org_feature_usage_weekly as (

    select * from {{ ref('fct_org_feature_usage_weekly') }}

),

peer_weeks as (

    select
        org_feature_weekly.week_start,
        org_feature_weekly.feature,
        org_feature_weekly.last_option,
        coalesce(org_feature_usage_weekly.events, 0) as events
    from org_feature_weekly
    left join org_feature_usage_weekly
        on org_feature_usage_weekly.organisation_id = org_feature_weekly.organisation_id
        and org_feature_usage_weekly.week_start = org_feature_weekly.week_start
        and org_feature_usage_weekly.feature = org_feature_weekly.feature
    where org_feature_weekly.last_option is not null

),

final as (

    select
        week_start,
        feature,
        last_option,
        cast(median(events) as double) as peer_median_events,
        count(*) as peer_count
    from peer_weeks
    group by week_start, feature, last_option

)

select * from final
order by week_start, feature, last_option
