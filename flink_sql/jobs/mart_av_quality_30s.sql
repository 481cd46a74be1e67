-- Live-class audio/video quality per 30-second tumbling window of messageCreateTime, students only.
-- Grain: window x user x web_server_id x classroom x user_type x extra_uid x event; insert-only.
-- A record feeds the audio metric when lost >= 0 and the video metric when fr >= 0 (both possible).
-- Rule: DATA_CONTRACT.md av_quality_30s (seed scene 3's two INSERTs are one UNION ALL here).

-- Late routing (flink_sql/templates/late_by_split_watermark.sql: at or behind its split's
-- watermark, kept in state, or the operator's): a late event goes to late_events, once per metric
-- it feeds (the unit of event_count).
apply template late_by_split_watermark (
    view = 'av_records', source = 'agora_record_clean', event_time_ms = 'message_create_time'
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

apply template route_late_events (
    mart = 'av_quality_30s', events = 'av_metrics',
    event_time_ms = 'message_create_time', window_ms = '30000',
    user_id = 'user_id', web_server_id = 'web_server_id', classroom_id = 'classroom_id',
    user_type = 'user_type', event = '`event`', extra_uid = 'extra_uid',
    metric_value = 'metric_value'
);
