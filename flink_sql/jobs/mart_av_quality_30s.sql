-- Live-class audio/video quality per 30-second tumbling window of messageCreateTime, students only.
-- Grain: window x user x web_server_id x classroom x user_type x extra_uid x event; insert-only.
-- A record feeds the audio metric when lost >= 0 and the video metric when fr >= 0 (both possible).
-- Rule: DATA_CONTRACT.md av_quality_30s (seed scene 3's two INSERTs are one statement here).

-- Late routing (flink_sql/templates/late_by_split_watermark.sql: at or behind its split's
-- watermark, kept in state, or the operator's): a late event goes to late_events, once per metric
-- it feeds (the unit of event_count).
apply template late_by_split_watermark (
    view = 'av_records', source = 'agora_record_clean', event_time_ms = 'message_create_time',
    columns = 'source_split, source_offset, message_create_time, event_at, user_id,
        agora_channel_id, classroom_id, user_type, `event`, audio_uid, audio_lost, video_uid,
        video_fr'
);

-- One row per metric a student record feeds; NULL keys become -1 ('-1' for the classroom). The
-- two metrics come from one UNNEST of the record rather than a UNION ALL of two selects: a union
-- gives its consumer two inputs, so Flink cannot chain the window's local aggregate to the late
-- rule and every metric row crossed a task boundary (serialized and read again).
create temporary view av_metrics as
select
    event_at, is_late, watermark_at, message_create_time, source_split, source_offset,
    COALESCE(user_id, -1) as user_id,
    COALESCE(agora_channel_id, -1) as web_server_id,
    COALESCE(classroom_id, '-1') as classroom_id,
    user_type,
    metrics.extra_uid,
    CONCAT(`event`, metrics.state) as `event`,
    metrics.metric_value
from av_records
cross join unnest(array[
    row('_AUDIO_STATE', audio_uid, audio_lost),
    row('_VIDEO_STATE', video_uid, video_fr)
]) as metrics (state, extra_uid, metric_value)
where user_type = 'student' and metrics.metric_value >= 0;

create temporary view av_metrics_on_time as
select * from av_metrics where not is_late;

insert into av_quality_30s
select
    DATE_FORMAT(window_start, 'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(window_end, 'yyyy-MM-dd HH:mm:ss'),
    user_id,
    web_server_id,
    classroom_id,
    user_type,
    extra_uid,
    `event`,
    SUM(metric_value),
    AVG(cast(metric_value as double)),
    COUNT(*),
    current_timestamp
from table(TUMBLE(table av_metrics_on_time, DESCRIPTOR(event_at), interval '30' second))
group by
    window_start, window_end, user_id, web_server_id, classroom_id, user_type, extra_uid, `event`;

apply template route_late_events (
    mart = 'av_quality_30s', events = 'av_metrics',
    event_time_ms = 'message_create_time', window_ms = '30000',
    user_id = 'user_id', web_server_id = 'web_server_id', classroom_id = 'classroom_id',
    user_type = 'user_type', event = '`event`', extra_uid = 'extra_uid',
    metric_value = 'metric_value'
);
