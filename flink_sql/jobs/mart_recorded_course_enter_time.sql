-- Recorded-course entry time: one row per PPT_SUCCESS, spend_time = its extra.data_time minus the
-- earliest data_time among the same user's events in the same classroom that are strictly earlier
-- and at most the look-back (RECORDED_COURSE_LOOKBACK, 3 h) earlier; no row if there is none. Rule:
-- DATA_CONTRACT.md recorded_course_enter_time (seed scene 2 without its one-row-per-pair join).

-- Late routing (flink_sql/templates/late_by_split_watermark.sql: at or behind its split's
-- watermark, kept in state, or the operator's), on extra.data_time.
apply template late_by_split_watermark (
    view = 'qos_events', source = 'qos_log_clean', event_time_ms = 'data_time',
    columns = 'source_split, source_offset, data_time, event_at, event_time, user_id, classroom_id,
        user_type, sub_event'
);

create temporary view qos_events_on_time as
select * from qos_events where not is_late;

-- A range OVER window on event time replaces the seed's self-join: it keeps only the look-back of
-- each user and classroom in state (bounded) and yields exactly one row per event. The frame ends
-- at the current row and includes it, so the earliest time is strictly earlier exactly when it is
-- below the event's own. Among earliest-time ties the smallest event_time wins; user_type and
-- event_time come from that earliest event: all three ride in one zero-padded key whose MIN picks
-- them together.
create temporary view qos_sessions as
select
    user_id,
    classroom_id,
    sub_event,
    data_time,
    event_time,
    MIN(data_time) over look_back as earliest_data_time,
    MIN(CONCAT(
        LPAD(cast(data_time as string), 19, '0'),
        LPAD(cast(event_time as string), 19, '0'),
        COALESCE(user_type, ''))) over look_back as earliest_key
from qos_events_on_time
window look_back as (
    partition by user_id, classroom_id
    order by event_at
    range between interval '${RECORDED_COURSE_LOOKBACK}' day to second preceding and current row
);

insert into recorded_course_enter_time
select
    user_id,
    classroom_id,
    NULLIF(SUBSTR(earliest_key, 39), ''),
    data_time - earliest_data_time,
    -- epoch fields are milliseconds end to end: both times keep theirs
    DATE_FORMAT(
        TO_TIMESTAMP_LTZ(cast(SUBSTR(earliest_key, 20, 19) as bigint), 3),
        'yyyy-MM-dd HH:mm:ss.SSS'),
    DATE_FORMAT(TO_TIMESTAMP_LTZ(event_time, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    current_timestamp
from qos_sessions
where sub_event = 'PPT_SUCCESS' and earliest_data_time < data_time;

apply template route_late_events (
    mart = 'recorded_course_enter_time', events = 'qos_events', event_time_ms = 'data_time',
    user_id = 'user_id', classroom_id = 'classroom_id', user_type = 'user_type',
    event = 'sub_event'
);
