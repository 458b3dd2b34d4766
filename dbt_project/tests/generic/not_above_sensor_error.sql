{#- Rows where more units were taken than a plate held, beyond what the shelf sensors misread
    (var max_overdraw_units): the stock count would have gone negative. -#}
{% test not_above_sensor_error(model, column_name) %}

select * from {{ model }}
where {{ column_name }} > {{ var('max_overdraw_units') }}

{% endtest %}
