{#-
  Metrics as SQL files. A metric is one model under models/ads/metrics/ that returns
  (metric_date Date, dimension String, value Float64) and declares its header with metric():

    {{ metric(description='...', owner='...', grain='day x room', unit='ms', min=0, max=60000) }}

  metric() stores the header as the model's config meta {'metric': {...}}.

  metric_models() finds them in the graph; ads.metrics_daily and ads.metric_definitions
  (tag metric_rollup, built after every metric) read them from there, so adding a metric
  file needs no other edit.
-#}

{% macro metric(description, owner, grain, unit, min, max) -%}
    {{- config(meta={'metric': {
        'description': description, 'owner': owner, 'grain': grain, 'unit': unit,
        'min': min, 'max': max,
    }}) -}}
{%- endmacro %}


{% macro metric_models() -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
              if node.resource_type == 'model'
              and node.fqn[1:3] == ['ads', 'metrics'] -%}
            {%- do found.append(node) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(found | sort(attribute='name')) -}}
{%- endmacro %}


{% macro metric_header(node) -%}
    {%- set header = (node.config.meta or {}).get('metric') -%}
    {%- if header is none -%}
        {{ exceptions.raise_compiler_error(
            "metric " ~ node.name ~ " (" ~ node.original_file_path ~ ") has no "
            ~ "metric(description=..., owner=..., grain=..., unit=..., min=..., max=...) header") }}
    {%- endif -%}
    {%- for key in ['description', 'owner', 'grain', 'unit'] -%}
        {%- if not header.get(key) -%}
            {{ exceptions.raise_compiler_error(
                "metric " ~ node.name ~ ": header is missing '" ~ key ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {{- return(header) -}}
{%- endmacro %}
