{#-
  The latest version of each key in a snapshot topic: the greatest update_time, ties going to
  the later message (source split, then position in it). Contract: "Snapshot topics".
  The latest version is a whole row: the columns are picked together as one tuple (argMax of a
  single column would skip a NULL and return an older version's value). update_time is
  'YYYY-MM-DD HH:MM:SS', so text order is time order. The result names it latest_update_time
  (ClickHouse would resolve update_time inside argMax to an alias).
  Defence in depth: a version whose update_time or one of `datetimes` is not a valid datetime
  (cleaning rejects it as wrong_type) takes no part, so one bad value can never fail the build.
-#}
{% macro latest_version(relation, key, columns, datetimes=[]) -%}
select
    {{ key }},
    {%- for column in columns %}
    latest_row.{{ loop.index }} as {{ column }},
    {%- endfor %}
    latest_update_time,
    versions
from (
    select
        {{ key }},
        argMax(
            tuple({{ columns | join(', ') }}), (update_time, source_split, message_seq)
        ) as latest_row,
        max(update_time) as latest_update_time,
        count() as versions
    from {{ relation }}
    where
        {{ is_business_datetime('update_time') }}
        {%- for column in datetimes %}
        and ({{ column }} is null or {{ is_business_datetime(column) }})
        {%- endfor %}
    group by {{ key }}
)
{%- endmacro %}
