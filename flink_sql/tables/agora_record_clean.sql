-- Flat audio/video quality records: one row per valid agora_record message. Written by the cleaning
-- job as JSON lines; read back by the mart jobs with an event-time watermark: only clean, natural
-- events reach it, so a future timestamp can never move it.
-- role: event_stream
create table agora_record_clean (
    source_split string,
    source_offset bigint,  -- Kafka offset; NULL for files
    classroom_id string,
    user_type string,
    user_id bigint,
    agora_channel_id bigint,
    `event` string,
    video_fr bigint,  -- agora_videoState.fr
    video_uid bigint,  -- agora_videoState.uid
    audio_lost bigint,  -- agora_audioState.lost
    audio_uid bigint,  -- agora_audioState.uid
    message_create_time bigint,  -- messageCreateTime (epoch ms), the event time
    ingested_at timestamp_ltz(3),
    processed_at timestamp_ltz(3),
    event_at as to_timestamp_ltz(message_create_time, 3),  -- event time of the windowed marts
    -- Event times inside a topic are in order up to a 2 s jitter; 10 s (configurable) keeps
    -- that jitter out of late_events while anything minutes behind is late.
    watermark for event_at as event_at - interval '${WATERMARK_DELAY_SECONDS}' second
);
