{#- The daily models' filter: UTC lake dates in [$WALKOUT_DBT_START_DATE, $WALKOUT_DBT_END_DATE),
    the dates of the Dagster run; every date when unset. -#}
{% macro in_partition_window(column='lake_date') -%}
    {%- set start_date = env_var('WALKOUT_DBT_START_DATE', '') -%}
    {%- set end_date = env_var('WALKOUT_DBT_END_DATE', '') -%}
    {%- if start_date and end_date -%}
        {{ column }} >= date '{{ start_date }}' and {{ column }} < date '{{ end_date }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
