{#-
  The latest version of each key in a snapshot topic: the greatest update_time, ties going to
  the later message (source split, then position in it). Contract: "Snapshot topics".
  update_time is 'YYYY-MM-DD HH:MM:SS', so text order is time order. The result names it
  latest_update_time (ClickHouse would resolve update_time inside argMax to an alias).
-#}
{% macro latest_version(relation, key, columns) -%}
select
    {{ key }},
    {%- for column in columns %}
    argMax({{ column }}, (update_time, source_split, message_seq)) as {{ column }},
    {%- endfor %}
    max(update_time) as latest_update_time,
    count() as versions
from {{ relation }}
group by {{ key }}
{%- endmacro %}
