{#- Rows where the column is below zero (e.g. a plate that held fewer units than were taken from it). -#}
{% test not_negative(model, column_name) %}

select * from {{ model }}
where {{ column_name }} < 0

{% endtest %}
