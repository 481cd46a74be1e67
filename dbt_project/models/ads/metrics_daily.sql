-- Every metric file under models/ads/metrics/ in one long table.
-- Grain: metric x metric_date x dimension. Built after all metrics (tag metric_rollup).
{{ config(
    tags=['ads', 'metric_rollup'],
    order_by='(metric, metric_date, dimension)',
    partition_by='toYYYYMM(metric_date)',
) }}

{#- Only metric views that exist: the roll-up runs after them (classpulse build), but a
    plain `dbt build` on an empty warehouse may reach this model first. -#}
{%- set metrics = [] %}
{%- for node in metric_models() %}
    {%- if adapter.get_relation(database=none, schema=node.schema, identifier=node.alias) is not none %}
        {%- do metrics.append(node) %}
    {%- else %}
        {%- do log("metrics_daily: " ~ node.name ~ " is not built yet; run `classpulse build`", info=true) %}
    {%- endif %}
{%- endfor %}
{%- if metrics | length == 0 %}
    select
        cast('' as LowCardinality(String)) as metric,
        toDate(0) as metric_date,
        '' as dimension,
        toFloat64(0) as value
    where 0
{%- else %}
    {%- for node in metrics %}
        {%- do metric_header(node) %}
        select
            cast({{ string_literal(node.name) }} as LowCardinality(String)) as metric,
            toDate(metric_date) as metric_date,
            toString(dimension) as dimension,
            toFloat64(value) as value
        from {{ node.schema }}.{{ node.alias }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endif %}
