{#- A lake topic as a relation: its Parquet files, or, while the topic has none, an empty relation with
    the columns its source declares (read_parquet fails on a glob that matches nothing); columns the
    source declares that no file has yet (a field added to the contract since) read as null.
    The glob is the lake source's meta.lake_files, generated with the source (walkout/lake.py). -#}
{% macro lake_source(table_name) %}
    {%- set relation = source('lake', table_name) -%}
    {%- set source_id = 'source.walkout.lake.' ~ table_name -%}
    {%- if execute and relation.external and not lake_has_files(source_id) -%}
        (select {{ typed_nulls(source_id) }} limit 0)
    {%- elif execute and relation.external -%}
        {#- Files landed before an optional field joined the contract lack its column: null. -#}
        {%- set present = run_query('describe select * from ' ~ relation).columns[0].values() -%}
        (select *
        {%- for column in graph.sources[source_id].columns.values() if column.name not in present %},
            cast(null as {{ column.data_type }}) as {{ column.name }}
        {%- endfor %}
        from {{ relation }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{% endmacro %}


{% macro lake_has_files(source_id) %}
    {%- set node = graph.sources[source_id] -%}
    {%- set pattern = node.meta.lake_files | replace('$identifier', node.identifier) -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}


{% macro typed_nulls(source_id) %}
    {%- set columns = graph.sources[source_id].columns.values() -%}
    {%- for column in columns %}
        cast(null as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{% endmacro %}
