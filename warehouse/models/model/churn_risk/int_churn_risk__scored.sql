{#
    The churn-risk score of every pair (METRICS.md section 5, view 9): each component
    adds the points of its best-matching row of the churn_risk_points seed (below /
    at_least a threshold, or never = value null); risk_score = the sum, capped at 100;
    risk_band from the churn_risk_bands seed; reasons = the components that added
    points, in words, largest first (ties in component order), joined by "; ".
#}

with inputs as (

    select * from {{ ref('int_churn_risk__inputs') }}

),

points as (

    select * from {{ ref('churn_risk_points') }}

),

bands as (

    select * from {{ ref('churn_risk_bands') }}

),

component_values as (

    {%- set components = [
        ('utilisation', 1, 'utilisation'),
        ('usage_trend', 2, 'usage_trend'),
        ('weeks_since_last_event', 3, 'weeks_since_last_event'),
        ('recent_changes', 4, 'recent_changes'),
    ] %}
    {%- for name, position, column in components %}
    select
        as_of_date,
        organisation_id,
        feature,
        '{{ name }}' as component,
        {{ position }} as component_position,
        cast({{ column }} as double) as component_value
    from inputs
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

matched as (

    select
        component_values.as_of_date,
        component_values.organisation_id,
        component_values.feature,
        component_values.component,
        component_values.component_position,
        points.points
    from component_values
    inner join points
        on component_values.component = points.component
        and (
            (points.comparison = 'below' and component_values.component_value < points.threshold)
            or (points.comparison = 'at_least' and component_values.component_value >= points.threshold)
            or (points.comparison = 'never' and component_values.component_value is null)
        )
    where points.points > 0
    qualify row_number() over (
        partition by component_values.as_of_date, component_values.organisation_id,
            component_values.feature, component_values.component
        order by points.points desc
    ) = 1

),

worded as (

    select
        matched.as_of_date,
        matched.organisation_id,
        matched.feature,
        matched.component_position,
        matched.points,
        case matched.component
            when 'utilisation' then
                'Utilisation ' || {{ percent_words('inputs.utilisation') }} || '% over the last 4 weeks'
            when 'usage_trend' then
                case when inputs.usage_trend < 1
                    then 'Events down ' || {{ percent_words('1 - inputs.usage_trend') }}
                    else 'Events up ' || {{ percent_words('inputs.usage_trend - 1') }}
                end || '% from two months earlier'
            when 'weeks_since_last_event' then
                case
                    when inputs.weeks_since_last_event is null then 'Never used'
                    when inputs.weeks_since_last_event = 0 then 'Used in the last complete week'
                    when inputs.weeks_since_last_event = 1 then 'No use for 1 week'
                    else 'No use for '
                        || cast(inputs.weeks_since_last_event as {{ dbt.type_string() }}) || ' weeks'
                end
            when 'recent_changes' then inputs.recent_change_words
        end as reason
    from matched
    inner join inputs
        on matched.as_of_date = inputs.as_of_date
        and matched.organisation_id = inputs.organisation_id
        and matched.feature = inputs.feature

),

summed as (

    select
        as_of_date,
        organisation_id,
        feature,
        least(100, sum(points)) as risk_score,
        {{ dbt.listagg('reason', "'; '", 'order by points desc, component_position') }} as reasons
    from worded
    group by as_of_date, organisation_id, feature

),

scored as (

    select
        inputs.as_of_date,
        inputs.organisation_id,
        inputs.feature,
        inputs.last_known_date,
        inputs.is_current,
        inputs.is_backtest,
        cast(coalesce(summed.risk_score, 0) as {{ dbt.type_int() }}) as risk_score,
        inputs.utilisation,
        inputs.usage_trend,
        inputs.weeks_since_last_event,
        inputs.recent_changes,
        summed.reasons
    from inputs
    left join summed
        on inputs.as_of_date = summed.as_of_date
        and inputs.organisation_id = summed.organisation_id
        and inputs.feature = summed.feature

),

final as (

    select
        scored.as_of_date,
        scored.organisation_id,
        scored.feature,
        scored.last_known_date,
        scored.is_current,
        scored.is_backtest,
        scored.risk_score,
        bands.risk_band,
        scored.utilisation,
        scored.usage_trend,
        scored.weeks_since_last_event,
        scored.recent_changes,
        scored.reasons
    from scored
    left join bands
        on bands.min_score <= scored.risk_score
    qualify row_number() over (
        partition by scored.as_of_date, scored.organisation_id, scored.feature
        order by bands.min_score desc
    ) = 1

)

select * from final
