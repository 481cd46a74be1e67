{#- The business date of a reg_hour (YYYYMMDDHH as a number, business time zone): the one
    place that decodes reg_hour. -#}
{% macro reg_hour_date(column) -%}
makeDate(intDiv({{ column }}, 1000000), intDiv({{ column }}, 10000) % 100, intDiv({{ column }}, 100) % 100)
{%- endmacro %}
