{#
    How well the churn-risk score ranked the cancellations that followed, per back-test
    date and pooled over every date (the row with as_of_date null).
    - auc: probability that a random positive pair outscores a random negative one,
      ties counted half (Mann-Whitney), computed from the count of positives and
      negatives at each score; null without a positive or a negative.
    - auc_lower_95 / auc_upper_95: DeLong's 95% interval (AUC +/- 1.96 standard errors
      from the positives' and negatives' placement values), clipped to [0, 1]; the
      pooled row treats pairs of different dates as independent, so its interval is a
      little narrow where one pair recurs across dates.
    - precision_at_20: share of positives among the 20 highest scores; pairs tied at
      the cut count by their share (the expected precision when ties are ordered at
      random); over all pairs when there are fewer than 20.
#}

{%- set top_n = 20 %}

with backtest_pairs as (

    select * from {{ ref('fct_churn_risk_backtest_pairs') }}

),

grouped_pairs as (

    select
        cast(as_of_date as {{ dbt.type_string() }}) as group_key,
        as_of_date,
        risk_score,
        is_positive
    from backtest_pairs
    union all
    select
        'pooled' as group_key,
        cast(null as date) as as_of_date,
        risk_score,
        is_positive
    from backtest_pairs

),

score_counts as (

    select
        group_key,
        as_of_date,
        risk_score,
        sum(case when is_positive then 1 else 0 end) as positives,
        sum(case when is_positive then 0 else 1 end) as negatives
    from grouped_pairs
    group by group_key, as_of_date, risk_score

),

placed as (

    select
        group_key,
        as_of_date,
        risk_score,
        positives,
        negatives,
        sum(positives) over (partition by group_key) as total_positives,
        sum(negatives) over (partition by group_key) as total_negatives,
        coalesce(sum(negatives) over (
            partition by group_key order by risk_score
            rows between unbounded preceding and 1 preceding
        ), 0) as negatives_below,
        coalesce(sum(positives) over (
            partition by group_key order by risk_score desc
            rows between unbounded preceding and 1 preceding
        ), 0) as positives_above,
        coalesce(sum(positives + negatives) over (
            partition by group_key order by risk_score desc
            rows between unbounded preceding and 1 preceding
        ), 0) as pairs_above
    from score_counts

),

placement_values as (

    select
        group_key,
        as_of_date,
        positives,
        negatives,
        total_positives,
        total_negatives,
        case when total_negatives > 0
            then (cast(negatives_below as double) + negatives / 2.0e0) / total_negatives end as positive_placement,
        case when total_positives > 0
            then (cast(positives_above as double) + positives / 2.0e0) / total_positives end as negative_placement,
        case
            when pairs_above >= {{ top_n }} then cast(0 as double)
            when pairs_above + positives + negatives <= {{ top_n }} then cast(positives as double)
            else cast(positives as double) * ({{ top_n }} - pairs_above) / (positives + negatives)
        end as top_positives
    from placed

),

aucs as (

    select
        group_key,
        as_of_date,
        max(total_positives) as cancellations,
        max(total_positives + total_negatives) as pairs,
        max(total_negatives) as negatives,
        sum(top_positives) as top_positives,
        case when max(total_positives) > 0 and max(total_negatives) > 0
            then sum(positives * positive_placement) / max(total_positives) end as auc
    from placement_values
    group by group_key, as_of_date

),

delong as (

    select
        placement_values.group_key,
        sum(placement_values.positives
            * (placement_values.positive_placement - aucs.auc) * (placement_values.positive_placement - aucs.auc))
            / nullif(max(aucs.cancellations) - 1, 0) as positive_variance,
        sum(placement_values.negatives
            * (placement_values.negative_placement - aucs.auc) * (placement_values.negative_placement - aucs.auc))
            / nullif(max(aucs.negatives) - 1, 0) as negative_variance
    from placement_values
    inner join aucs
        on placement_values.group_key = aucs.group_key
    where aucs.auc is not null
    group by placement_values.group_key

),

intervals as (

    select
        aucs.group_key,
        aucs.as_of_date,
        aucs.pairs,
        aucs.cancellations,
        aucs.auc,
        aucs.top_positives,
        1.959964 * sqrt(
            delong.positive_variance / aucs.cancellations + delong.negative_variance / aucs.negatives
        ) as auc_margin
    from aucs
    left join delong
        on aucs.group_key = delong.group_key

),

final as (

    select
        as_of_date,
        cast(pairs as {{ dbt.type_bigint() }}) as pairs,
        cast(cancellations as {{ dbt.type_bigint() }}) as cancellations,
        cast(cancellations as double) / pairs as base_rate,
        cast(auc as double) as auc,
        -- case, not greatest/least: DuckDB's skip nulls, Snowflake's return null.
        cast(case when auc - auc_margin < 0 then 0 else auc - auc_margin end
            as double) as auc_lower_95,
        cast(case when auc + auc_margin > 1 then 1 else auc + auc_margin end
            as double) as auc_upper_95,
        cast(top_positives / least({{ top_n }}, pairs) as double) as precision_at_20
    from intervals

)

select * from final
order by as_of_date nulls last
