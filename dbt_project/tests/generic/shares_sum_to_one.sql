{#- Groups whose shares (of a heatmap cell, zone or demographic group) do not add up to 1. -#}
{% test shares_sum_to_one(model, column_name, group_by) %}

select
    {{ group_by | join(', ') }},
    sum({{ column_name }}) as total_share,
from {{ model }}
group by {{ group_by | join(', ') }}
having count({{ column_name }}) > 0 and abs(sum({{ column_name }}) - 1) > 1e-9

{% endtest %}
