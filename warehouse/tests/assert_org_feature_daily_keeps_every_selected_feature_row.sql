-- fct_org_feature_daily adds a column to the selected-features fact, never a row and
-- never loses one: the two row counts are equal (one failing row when they differ).
with counts as (
    select
        (select count(*) from {{ ref('fct_org_feature_daily') }}) as with_users,
        (select count(*) from {{ ref('fct_selected_features_daily') }}) as selected
)

select with_users, selected
from counts
where with_users <> selected
