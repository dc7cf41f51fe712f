{#
    The daily selected-features fact: one row per organisation, known day and feature
    present in that day's export (after the export dedup). A day without a FEATURE row,
    or a feature absent from the day's array, is unknown: no row, never carried forward.
    Names and options are trimmed and matched case-insensitively to the contract's
    spelling (feature_options seed); a feature outside the contract keeps its trimmed name.
#}

with feature_exports as (

    select * from {{ ref('int_feature_exports__classified') }}

),

feature_options as (

    select * from {{ ref('feature_options') }}

),

kept_exports as (

    select organisation_id, export_date, features_json
    from feature_exports
    where is_kept

),

elements as (

    select
        kept_exports.organisation_id,
        kept_exports.export_date as date,
        trim({{ json_value_text(json_array_element('feature_element'), 'Name') }}) as feature_name,
        trim({{ json_value_text(json_array_element('feature_element'), 'SelectedOption') }}) as option_name,
        {{ json_array_index('feature_element') }} as element_index
    from kept_exports
    {{ json_array_elements('kept_exports.features_json', 'feature_element') }}

),

contract_features as (

    select distinct feature from feature_options

),

named as (

    select
        elements.organisation_id,
        elements.date,
        coalesce(contract_features.feature, elements.feature_name) as feature,
        elements.option_name,
        elements.element_index
    from elements
    left join contract_features
        on lower(elements.feature_name) = lower(contract_features.feature)
    where elements.feature_name <> '' and elements.option_name <> ''

),

first_mention as (

    -- A feature listed twice in one export: its first mention counts.
    select *
    from named
    qualify row_number() over (
        partition by organisation_id, date, feature
        order by element_index
    ) = 1

),

normalised as (

    select
        first_mention.organisation_id,
        first_mention.date,
        first_mention.feature,
        coalesce(
            feature_options.option,
            case
                when lower(first_mention.option_name) = 'off' then 'Off'
                when lower(first_mention.option_name) = 'on' then 'On'
                else first_mention.option_name
            end
        ) as selected_option,
        coalesce(
            feature_options.option_rank,
            case
                when lower(first_mention.option_name) = 'off' then 0
                when lower(first_mention.option_name) = 'on' then 1
            end
        ) as option_rank,
        lower(first_mention.option_name) <> 'off' as is_enabled
    from first_mention
    left join feature_options
        on first_mention.feature = feature_options.feature
        and lower(first_mention.option_name) = lower(feature_options.option)

),

final as (

    select
        organisation_id,
        date,
        feature,
        selected_option,
        cast(option_rank as {{ dbt.type_int() }}) as option_rank,
        is_enabled,
        {{ iso_week_start('date') }} as week_start,
        {{ month_start('date') }} as month_start
    from normalised

)

-- Stored in organisation order: a per-organisation read skips most of the table.
select * from final
order by organisation_id, date
