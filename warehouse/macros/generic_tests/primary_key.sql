{#
    The columns are the model's key: together never null and never repeated. One query
    instead of unique + not_null per column (a build runs hundreds of tests).
#}
{% test primary_key(model, column_names) %}
    {%- set columns = column_names | join(', ') %}
    select {{ columns }}, count(*) as rows_per_key
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
        or {% for column in column_names %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
