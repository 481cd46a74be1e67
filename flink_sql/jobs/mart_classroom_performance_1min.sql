-- Student classroom performance: classified events per 1-minute tumbling window of client event
-- time. Grain: window x room (webserver_id) x user x role x event; insert-only (a window is final
-- when the watermark passes it). Rule: DATA_CONTRACT.md classroom_performance_1min (seed scene 2,
-- but on event time data.timestamp, not the seed's processing time NOW()).

-- Late routing. Flink's window drops an event behind the watermark silently, so each event is
-- classified before the window. The rule is kept in state so that a job restored from a checkpoint
-- decides exactly as an undisturbed one (Flink's watermark is not checkpointed: it restarts from
-- nothing): per source split (a Kafka partition keeps its order, and the cleaning keeps a split in
-- one partition of its clean topic) the split's watermark is its greatest event time so far minus
-- the delay (the source DDL's watermark, computed per partition); an event at or behind it is late.
-- The operator's own watermark (CURRENT_WATERMARK; NULL before the first one) is never ahead of
-- its partition's, except once an idle partition resumes: an event behind it is late too, so an
-- on-time event always reaches a window that has not fired (window_end > event time > watermark).
-- Late events go to late_events; counted + late = events read, per mart_accounting.
CREATE TEMPORARY VIEW classroom_events AS
SELECT
    *,
    split_late OR COALESCE(event_at <= CURRENT_WATERMARK(event_at), FALSE) AS is_late,
    CASE
        WHEN split_late THEN TO_TIMESTAMP_LTZ(split_watermark_ms, 3)
        ELSE CURRENT_WATERMARK(event_at)
    END AS watermark_at
FROM (
    SELECT *, messageTimeStamp <= split_watermark_ms AS split_late
    FROM (
        SELECT
            *,
            MAX(messageTimeStamp) OVER (
                PARTITION BY sourceSplit ORDER BY arrived_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) - ${WATERMARK_DELAY_SECONDS} * 1000 AS split_watermark_ms
        FROM (SELECT *, PROCTIME() AS arrived_at FROM timeline_analysis_student)
    )
);

CREATE TEMPORARY VIEW classroom_events_on_time AS
SELECT * FROM classroom_events WHERE NOT is_late;

INSERT INTO classroom_performance_1min
SELECT
    DATE_FORMAT(window_start, 'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(window_end, 'yyyy-MM-dd HH:mm:ss'),
    roomId,
    userId,
    `role`,
    `event`,
    COUNT(*),
    CURRENT_TIMESTAMP
FROM TABLE(TUMBLE(TABLE classroom_events_on_time, DESCRIPTOR(event_at), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, roomId, userId, `role`, `event`;

INSERT INTO late_events
SELECT
    'classroom_performance_1min',
    DATE_FORMAT(event_at, 'yyyy-MM-dd HH:mm:ss'),
    messageTimeStamp,
    DATE_FORMAT(watermark_at, 'yyyy-MM-dd HH:mm:ss.SSS'),
    -- the epoch-aligned window the event belonged to
    DATE_FORMAT(
        TO_TIMESTAMP_LTZ(messageTimeStamp - MOD(messageTimeStamp, 60000), 3),
        'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(
        TO_TIMESTAMP_LTZ(messageTimeStamp - MOD(messageTimeStamp, 60000) + 60000, 3),
        'yyyy-MM-dd HH:mm:ss'),
    userId,
    roomId,
    CAST(NULL AS STRING),
    CAST(NULL AS STRING),
    `role`,
    `event`,
    CAST(NULL AS BIGINT),
    CAST(NULL AS BIGINT),
    sourceSplit,
    sourceOffset,
    CURRENT_TIMESTAMP
FROM classroom_events
WHERE is_late;

CREATE TEMPORARY VIEW classroom_counts AS
SELECT
    'classroom_performance_1min' AS mart,
    COUNT(*) AS events_in,
    COUNT(*) FILTER (WHERE NOT is_late) AS events_counted,
    COUNT(*) FILTER (WHERE is_late) AS events_late,
    MIN(CURRENT_ROW_TIMESTAMP()) AS counting_since
FROM classroom_events;

-- Counts only grow within a job's life (counting_since, kept in state, tells one run from
-- another), so the newest row of a run is the one with the most events_in.
INSERT INTO mart_accounting
SELECT mart, counting_since, events_in, events_counted, events_late, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE classroom_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
