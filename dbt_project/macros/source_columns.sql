{#- Columns of a relation. A lake source exists only as files, so its unit-test fixtures take the
    columns and data types its .yml declares; anything else is described by DuckDB, as dbt-duckdb's
    own duckdb__get_columns_in_relation does (this macro replaces it). -#}
{% macro duckdb__get_columns_in_relation(relation) -%}
    {%- for node in graph.sources.values()
        if node.source_name == relation.schema and node.identifier == relation.identifier and node.columns -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
            {%- do columns.append(api.Column.create(column.name, column.data_type)) -%}
        {%- endfor -%}
        {{ return(columns) }}
    {%- endfor -%}
    {%- call statement('get_columns_in_relation', fetch_result=True) -%}
        select
            column_name,
            column_type as data_type,
            cast(null as bigint) as character_maximum_length,
            cast(null as bigint) as numeric_precision,
            cast(null as bigint) as numeric_scale,
        from (describe {{ relation.render() }})
    {%- endcall -%}
    {{ return(sql_convert_columns_in_relation(load_result('get_columns_in_relation').table)) }}
{%- endmacro %}
