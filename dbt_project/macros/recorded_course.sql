{#-
  recorded_course_enter_time rows over `events` (columns of dwd.recorded_course_events): one row per
  PPT_SUCCESS with an earlier event of the same user and classroom at most the look-back before it.
  Contract: recorded_course_enter_time. The session start is the earliest strictly earlier data_time
  in the look-back (ties: the smallest event_time); user_type and event_time come from it, as in
  the seed. One row per PPT_SUCCESS, not one per earlier event (the seed's self-join bug).
  The look-back is CLASSPULSE_RECORDED_COURSE_LOOKBACK, the setting the Flink job reads too
  (src/classpulse/dbt.py passes it as var('enter_time_lookback_ms')).
-#}
{% macro enter_time_rows(events) -%}
select
    user_id,
    classroom_id,
    cast(session_start.3 as LowCardinality(String)) as user_type,
    data_time - session_start.1 as spend_time,
    {{ epoch_ms_to_business('session_start.2') }} as event_time,
    {{ epoch_ms_to_business('success_event_time') }} as create_time
from (
    select
        user_id,
        classroom_id,
        sub_event,
        event_time as success_event_time,
        data_time,
        min((data_time, event_time, user_type)) over (
            partition by user_id, classroom_id
            order by data_time
            range between {{ var('enter_time_lookback_ms') | int }} preceding and 1 preceding
        ) as session_start
    from {{ events }}
)
where sub_event = 'PPT_SUCCESS' and session_start.1 > 0
{%- endmacro %}
