-- Recorded-course entry time: one row per PPT_SUCCESS, spend_time = its extra.data_time minus the
-- earliest data_time among the same user's events in the same classroom that are strictly earlier
-- and at most the look-back (RECORDED_COURSE_LOOKBACK, 3 h) earlier; no row if there is none. Rule:
-- DATA_CONTRACT.md recorded_course_enter_time (seed scene 2 without its one-row-per-pair join).

-- Late routing as in mart_classroom_performance_1min (at or behind its split's watermark, kept in
-- state, or the operator's), on extra.data_time.
CREATE TEMPORARY VIEW qos_events AS
SELECT
    *,
    split_late OR COALESCE(event_at <= CURRENT_WATERMARK(event_at), FALSE) AS is_late,
    CASE
        WHEN split_late THEN TO_TIMESTAMP_LTZ(split_watermark_ms, 3)
        ELSE CURRENT_WATERMARK(event_at)
    END AS watermark_at
FROM (
    SELECT *, data_time <= split_watermark_ms AS split_late
    FROM (
        SELECT
            *,
            MAX(data_time) OVER (
                PARTITION BY source_split ORDER BY arrived_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) - ${WATERMARK_DELAY_SECONDS} * 1000 AS split_watermark_ms
        FROM (SELECT *, PROCTIME() AS arrived_at FROM qos_log_clean)
    )
);

CREATE TEMPORARY VIEW qos_events_on_time AS
SELECT * FROM qos_events WHERE NOT is_late;

-- A range OVER window on event time replaces the seed's self-join: it keeps only the look-back of
-- each user and classroom in state (bounded) and yields exactly one row per event. The frame ends
-- at the current row and includes it, so the earliest time is strictly earlier exactly when it is
-- below the event's own. Among earliest-time ties the smallest event_time wins; user_type and
-- event_time come from that earliest event: all three ride in one zero-padded key whose MIN picks
-- them together.
CREATE TEMPORARY VIEW qos_sessions AS
SELECT
    user_id,
    classroom_id,
    sub_event,
    data_time,
    event_time,
    MIN(data_time) OVER look_back AS earliest_data_time,
    MIN(CONCAT(
        LPAD(CAST(data_time AS STRING), 19, '0'),
        LPAD(CAST(event_time AS STRING), 19, '0'),
        COALESCE(user_type, ''))) OVER look_back AS earliest_key
FROM qos_events_on_time
WINDOW look_back AS (
    PARTITION BY user_id, classroom_id
    ORDER BY event_at
    RANGE BETWEEN INTERVAL '${RECORDED_COURSE_LOOKBACK}' DAY TO SECOND PRECEDING AND CURRENT ROW
);

INSERT INTO recorded_course_enter_time
SELECT
    user_id,
    classroom_id,
    NULLIF(SUBSTR(earliest_key, 39), ''),
    data_time - earliest_data_time,
    -- epoch fields are milliseconds end to end: both times keep theirs
    DATE_FORMAT(
        TO_TIMESTAMP_LTZ(CAST(SUBSTR(earliest_key, 20, 19) AS BIGINT), 3),
        'yyyy-MM-dd HH:mm:ss.SSS'),
    DATE_FORMAT(TO_TIMESTAMP_LTZ(event_time, 3), 'yyyy-MM-dd HH:mm:ss.SSS'),
    CURRENT_TIMESTAMP
FROM qos_sessions
WHERE sub_event = 'PPT_SUCCESS' AND earliest_data_time < data_time;

INSERT INTO late_events
SELECT
    'recorded_course_enter_time',
    DATE_FORMAT(event_at, 'yyyy-MM-dd HH:mm:ss'),
    data_time,
    DATE_FORMAT(watermark_at, 'yyyy-MM-dd HH:mm:ss.SSS'),
    CAST(NULL AS STRING),
    CAST(NULL AS STRING),
    user_id,
    CAST(NULL AS BIGINT),
    classroom_id,
    user_type,
    CAST(NULL AS INT),
    sub_event,
    CAST(NULL AS BIGINT),
    CAST(NULL AS BIGINT),
    source_split,
    source_offset,
    CURRENT_TIMESTAMP
FROM qos_events
WHERE is_late;

CREATE TEMPORARY VIEW qos_mart_counts AS
SELECT
    'recorded_course_enter_time' AS mart,
    COUNT(*) AS events_in,
    COUNT(*) FILTER (WHERE NOT is_late) AS events_counted,
    COUNT(*) FILTER (WHERE is_late) AS events_late,
    MIN(CURRENT_ROW_TIMESTAMP()) AS counting_since
FROM qos_events;

-- Counts only grow within a job's life (counting_since, kept in state, tells one run from
-- another), so the newest row of a run is the one with the most events_in.
INSERT INTO mart_accounting
SELECT mart, counting_since, events_in, events_counted, events_late, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE qos_mart_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
