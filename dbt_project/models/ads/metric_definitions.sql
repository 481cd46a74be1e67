-- The header of every metric file: what it means, who owns it, its grain, unit, bounds.
-- Grain: one row per metric.
{{ config(tags=['ads', 'metric_rollup'], order_by='metric') }}

{%- set metrics = metric_models() %}
{%- if metrics | length == 0 %}
select
    '' as metric, '' as description, '' as owner, '' as grain, '' as unit,
    cast(null as Nullable(Float64)) as min_value,
    cast(null as Nullable(Float64)) as max_value,
    '' as source_file
where 0
{%- else %}
    {%- for node in metrics %}
        {%- set header = metric_header(node) %}
        select
            {{ string_literal(node.name) }} as metric,
            {{ string_literal(header.description) }} as description,
            {{ string_literal(header.owner) }} as owner,
            {{ string_literal(header.grain) }} as grain,
            {{ string_literal(header.unit) }} as unit,
            cast({{ header.get('min', 'null') if header.get('min') is not none else 'null' }} as Nullable(Float64)) as min_value,
            cast({{ header.get('max', 'null') if header.get('max') is not none else 'null' }} as Nullable(Float64)) as max_value,
            {{ string_literal(node.original_file_path) }} as source_file
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endif %}
