with feature_entitlement_changes as (

    select * from {{ ref('fct_feature_entitlement_changes') }}

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
        cancellation_status
    from feature_entitlement_changes

)

select * from final
