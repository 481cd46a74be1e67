{#- The business time zone (CLASSPULSE_TIMEZONE), for hour and day buckets. -#}
{% macro business_tz() -%}
    {{ var('business_timezone', 'Asia/Shanghai') }}
{%- endmacro %}

{#- An epoch-millisecond column as a DateTime64(3) in the business time zone. -#}
{% macro epoch_ms_to_business(column) -%}
    fromUnixTimestamp64Milli(toInt64({{ column }}), '{{ business_tz() }}')
{%- endmacro %}

{#- A 'YYYY-MM-DD HH:MM:SS' business-time string as a DateTime in the business time zone. -#}
{% macro business_datetime(column) -%}
    parseDateTimeBestEffortOrNull({{ column }}, '{{ business_tz() }}')
{%- endmacro %}

{#- Restrict an incremental daily model to var('run_date') when one is given. -#}
{% macro for_run_date(day_expression) -%}
    {%- if var('run_date', '') -%}
        {{ day_expression }} = toDate('{{ var("run_date") }}')
    {%- else -%}
        1
    {%- endif -%}
{%- endmacro %}
