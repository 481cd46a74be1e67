{#- A ClickHouse string literal (for values taken from model headers, never user input). -#}
{% macro string_literal(value) -%}
    '{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
