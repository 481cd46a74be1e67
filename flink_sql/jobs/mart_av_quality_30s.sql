-- Live-class audio/video quality per 30-second tumbling window of messageCreateTime, students only.
-- Grain: window x user x web_server_id x classroom x user_type x extra_uid x event; insert-only.
-- A record feeds the audio metric when lost >= 0 and the video metric when fr >= 0 (both possible).
-- Rule: DATA_CONTRACT.md av_quality_30s (seed scene 3's two INSERTs are one UNION ALL here).

-- Late routing as in mart_classroom_performance_1min (at or behind its split's watermark, kept in
-- state, or the operator's): a late event goes to late_events, once per metric it feeds (the unit
-- of event_count).
CREATE TEMPORARY VIEW av_records AS
SELECT
    *,
    split_late OR COALESCE(event_at <= CURRENT_WATERMARK(event_at), FALSE) AS is_late,
    CASE
        WHEN split_late THEN TO_TIMESTAMP_LTZ(split_watermark_ms, 3)
        ELSE CURRENT_WATERMARK(event_at)
    END AS watermark_at
FROM (
    SELECT *, message_create_time <= split_watermark_ms AS split_late
    FROM (
        SELECT
            *,
            MAX(message_create_time) OVER (
                PARTITION BY source_split ORDER BY arrived_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) - ${WATERMARK_DELAY_SECONDS} * 1000 AS split_watermark_ms
        FROM (SELECT *, PROCTIME() AS arrived_at FROM agora_record_clean)
    )
);

-- One row per metric a student record feeds; NULL keys become -1 ('-1' for the classroom).
CREATE TEMPORARY VIEW av_metrics AS
SELECT
    event_at, is_late, watermark_at, message_create_time, source_split, source_offset,
    COALESCE(user_id, -1) AS user_id,
    COALESCE(agora_channel_id, -1) AS web_server_id,
    COALESCE(classroom_id, '-1') AS classroom_id,
    user_type,
    audio_uid AS extra_uid,
    CONCAT(`event`, '_AUDIO_STATE') AS `event`,
    audio_lost AS metric_value
FROM av_records
WHERE user_type = 'student' AND audio_lost >= 0
UNION ALL
SELECT
    event_at, is_late, watermark_at, message_create_time, source_split, source_offset,
    COALESCE(user_id, -1),
    COALESCE(agora_channel_id, -1),
    COALESCE(classroom_id, '-1'),
    user_type,
    video_uid,
    CONCAT(`event`, '_VIDEO_STATE'),
    video_fr
FROM av_records
WHERE user_type = 'student' AND video_fr >= 0;

CREATE TEMPORARY VIEW av_metrics_on_time AS
SELECT * FROM av_metrics WHERE NOT is_late;

INSERT INTO av_quality_30s
SELECT
    DATE_FORMAT(window_start, 'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(window_end, 'yyyy-MM-dd HH:mm:ss'),
    user_id,
    web_server_id,
    classroom_id,
    user_type,
    extra_uid,
    `event`,
    SUM(metric_value),
    AVG(CAST(metric_value AS DOUBLE)),
    COUNT(*),
    CURRENT_TIMESTAMP
FROM TABLE(TUMBLE(TABLE av_metrics_on_time, DESCRIPTOR(event_at), INTERVAL '30' SECOND))
GROUP BY
    window_start, window_end, user_id, web_server_id, classroom_id, user_type, extra_uid, `event`;

INSERT INTO late_events
SELECT
    'av_quality_30s',
    DATE_FORMAT(event_at, 'yyyy-MM-dd HH:mm:ss'),
    message_create_time,
    DATE_FORMAT(watermark_at, 'yyyy-MM-dd HH:mm:ss.SSS'),
    -- the epoch-aligned window the event belonged to
    DATE_FORMAT(
        TO_TIMESTAMP_LTZ(message_create_time - MOD(message_create_time, 30000), 3),
        'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(
        TO_TIMESTAMP_LTZ(message_create_time - MOD(message_create_time, 30000) + 30000, 3),
        'yyyy-MM-dd HH:mm:ss'),
    user_id,
    web_server_id,
    classroom_id,
    user_type,
    CAST(NULL AS INT),
    `event`,
    extra_uid,
    metric_value,
    source_split,
    source_offset,
    CURRENT_TIMESTAMP
FROM av_metrics
WHERE is_late;

CREATE TEMPORARY VIEW av_counts AS
SELECT
    'av_quality_30s' AS mart,
    COUNT(*) AS events_in,
    COUNT(*) FILTER (WHERE NOT is_late) AS events_counted,
    COUNT(*) FILTER (WHERE is_late) AS events_late,
    MIN(CURRENT_ROW_TIMESTAMP()) AS counting_since
FROM av_metrics;

-- Counts only grow within a job's life (counting_since, kept in state, tells one run from
-- another), so the newest row of a run is the one with the most events_in.
INSERT INTO mart_accounting
SELECT mart, counting_since, events_in, events_counted, events_late, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE av_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
