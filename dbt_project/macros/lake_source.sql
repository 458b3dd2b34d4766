{#- A lake topic as a relation: its Parquet files, or, while the topic has none, an empty relation with
    the columns its source declares (read_parquet fails on a glob that matches nothing).
    The glob repeats the one in the lake source's external_location. -#}
{% macro lake_source(table_name) %}
    {%- set relation = source('lake', table_name) -%}
    {%- if execute and relation.external and not lake_has_files(relation.identifier) -%}
        (select {{ typed_nulls('source.walkout.lake.' ~ table_name) }} limit 0)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}


{% macro lake_has_files(topic) %}
    {%- set pattern = data_dir() ~ '/lake/' ~ topic ~ '/date=*/*.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}


{% macro typed_nulls(source_id) %}
    {%- set columns = graph.sources[source_id].columns.values() -%}
    {%- for column in columns %}
        cast(null as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{% endmacro %}
