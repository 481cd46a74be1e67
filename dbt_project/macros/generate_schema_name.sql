{#- A model's +schema is the ClickHouse database itself (ods, dwd, dws, ads), not
    "<target schema>_<custom schema>" as dbt does by default. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
