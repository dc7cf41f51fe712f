{#
    Option changes between consecutive known days of one organisation and feature. The
    first known day is the starting state, not a change; a spelling-only difference is
    not a change (options are normalised upstream).
    change_type: activation (first enablement, after a disabled first known day),
    reactivation (any later enablement), upgrade / downgrade (by option rank),
    cancellation (enabled -> Off).
    With N = var('cancellation_confirmation_days'), for cancellations only (else null):
    is_confirmed: false when enabled on a known day in (D, D+N]; true when not and the
    latest FEATURE export date is at least D+N; else null.
    cancellation_status: the same in words, for the app: reversed / confirmed /
    provisional.
#}

{%- set confirmation_days = var('cancellation_confirmation_days') %}

with selected_features as (

    select * from {{ ref('fct_selected_features_daily') }}

),

export_coverage as (

    select * from {{ ref('fct_export_coverage_daily') }}

),

sequenced as (

    select
        organisation_id,
        feature,
        date,
        selected_option,
        option_rank,
        is_enabled,
        lag(selected_option) over (
            partition by organisation_id, feature order by date
        ) as previous_option,
        lag(option_rank) over (
            partition by organisation_id, feature order by date
        ) as previous_option_rank,
        lag(is_enabled) over (
            partition by organisation_id, feature order by date
        ) as previous_is_enabled,
        max(case when is_enabled then 1 else 0 end) over (
            partition by organisation_id, feature order by date
            rows between unbounded preceding and 1 preceding
        ) as was_enabled_before
    from selected_features

),

changes as (

    select
        organisation_id,
        feature,
        date as change_date,
        previous_option as from_option,
        selected_option as to_option,
        case
            when not previous_is_enabled and is_enabled and was_enabled_before = 1 then 'reactivation'
            when not previous_is_enabled and is_enabled then 'activation'
            when previous_is_enabled and not is_enabled then 'cancellation'
            when previous_is_enabled and is_enabled and option_rank > previous_option_rank then 'upgrade'
            when previous_is_enabled and is_enabled and option_rank < previous_option_rank then 'downgrade'
        end as change_type
    from sequenced
    where previous_option is not null
        and lower(previous_option) <> lower(selected_option)

),

latest_export as (

    select max(date) as latest_export_date from export_coverage

),

cancellation_follow_up as (

    select
        changes.organisation_id,
        changes.feature,
        changes.change_date,
        max(case when selected_features.is_enabled then 1 else 0 end) as is_enabled_again
    from changes
    inner join selected_features
        on changes.organisation_id = selected_features.organisation_id
        and changes.feature = selected_features.feature
        and selected_features.date > changes.change_date
        and selected_features.date <= {{ add_days(confirmation_days, 'changes.change_date') }}
    where changes.change_type = 'cancellation'
    group by changes.organisation_id, changes.feature, changes.change_date

),

confirmation as (

    select
        changes.organisation_id,
        changes.feature,
        changes.change_date,
        changes.from_option,
        changes.to_option,
        changes.change_type,
        cast(case
            when changes.change_type <> 'cancellation' then null
            when cancellation_follow_up.is_enabled_again = 1 then false
            when latest_export.latest_export_date
                >= {{ add_days(confirmation_days, 'changes.change_date') }} then true
        end as {{ dbt.type_boolean() }}) as is_confirmed
    from changes
    cross join latest_export
    left join cancellation_follow_up
        on changes.organisation_id = cancellation_follow_up.organisation_id
        and changes.feature = cancellation_follow_up.feature
        and changes.change_date = cancellation_follow_up.change_date
    -- Two enabled options of unknown order (outside the contract) are neither up nor down.
    where changes.change_type is not null

),

final as (

    select
        organisation_id,
        feature,
        change_date,
        from_option,
        to_option,
        change_type,
        is_confirmed,
        cast(case
            when change_type <> 'cancellation' then null
            when is_confirmed is null then 'provisional'
            when is_confirmed then 'confirmed'
            else 'reversed'
        end as {{ dbt.type_string() }}) as cancellation_status
    from confirmation

)

-- Stored in organisation order: a per-organisation read skips most of the table.
select * from final
order by organisation_id, change_date
