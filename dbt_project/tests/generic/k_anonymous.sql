{#- Shown cells counting fewer distinct shoppers than k (var k_anonymity): they must never be shown. -#}
{% test k_anonymous(model, column_name) %}

select * from {{ model }}
where {{ column_name }} < {{ var('k_anonymity') }}

{% endtest %}
