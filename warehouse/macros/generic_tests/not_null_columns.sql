{# None of the listed columns is ever null (one query for the whole model). #}
{% test not_null_columns(model, column_names) %}
    select *
    from {{ model }}
    where {% for column in column_names %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
