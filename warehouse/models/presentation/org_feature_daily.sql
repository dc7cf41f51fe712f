select
    organisation_id,
    date,
    feature,
    selected_option,
    is_enabled,
    option_rank,
    week_start,
    active_user_count,
    organisation_name,
    region
from {{ ref('fct_org_feature_daily') }}
