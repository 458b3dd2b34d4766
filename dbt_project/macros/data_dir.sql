{#- The data directory: $WALKOUT_DATA_DIR, else ../data (the repository's data/ when dbt runs here).
    The source definitions repeat this (yml cannot call macros). -#}
{% macro data_dir() -%}
    {{ return(env_var('WALKOUT_DATA_DIR', '../data')) }}
{%- endmacro %}
