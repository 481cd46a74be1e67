{#- The business time zone (CLASSPULSE_TIMEZONE), for hour and day buckets. -#}
{% macro business_tz() -%}
    {{ var('business_timezone', 'Asia/Shanghai') }}
{%- endmacro %}

{#- An epoch-millisecond column as a DateTime64(3) in the business time zone. -#}
{% macro epoch_ms_to_business(column) -%}
    fromUnixTimestamp64Milli(toInt64({{ column }}), '{{ business_tz() }}')
{%- endmacro %}

{#- Restrict an incremental daily model to var('run_date') when one is given. -#}
{% macro for_run_date(day_expression) -%}
    {%- if var('run_date', '') -%}
        {{ day_expression }} = toDate('{{ var("run_date") }}')
    {%- else -%}
        1
    {%- endif -%}
{%- endmacro %}

{#- A 'YYYY-MM-DD HH:MM:SS' business-time string parsed strictly (NULL when it is not one). -#}
{% macro parse_business_datetime(column) -%}
    parseDateTimeOrNull({{ column }}, '%Y-%m-%d %H:%i:%s', '{{ business_tz() }}')
{%- endmacro %}

{#- True when a string is a valid 'YYYY-MM-DD HH:MM:SS' datetime (contract: else wrong_type). -#}
{% macro is_business_datetime(column) -%}
    ({{ parse_business_datetime(column) }} is not null)
{%- endmacro %}

{#- The configuration of a model rebuilt by business day: incremental, one partition per
    event_date. With the project's insert_overwrite strategy a run replaces the partitions of
    the days it selects (for_run_date('event_date')) and keeps every other day. -#}
{% macro daily_incremental_config(order_by) -%}
    {{ config(materialized='incremental', partition_by='event_date', order_by=order_by) }}
{%- endmacro %}
