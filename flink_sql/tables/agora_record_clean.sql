-- Flat audio/video quality records: one row per valid agora_record message. Written by the cleaning
-- job as JSON lines; read back by the mart jobs with an event-time watermark: only clean, natural
-- events reach it, so a future timestamp can never move it.
-- role: event_stream
CREATE TABLE agora_record_clean (
    source_split        STRING,
    source_offset       BIGINT,  -- Kafka offset; NULL for files
    classroom_id        STRING,
    user_type           STRING,
    user_id             BIGINT,
    agora_channel_id    BIGINT,
    `event`             STRING,
    video_fr            BIGINT,  -- agora_videoState.fr
    video_uid           BIGINT,  -- agora_videoState.uid
    audio_lost          BIGINT,  -- agora_audioState.lost
    audio_uid           BIGINT,  -- agora_audioState.uid
    message_create_time BIGINT,  -- messageCreateTime (epoch ms), the event time
    ingested_at         TIMESTAMP_LTZ(3),
    processed_at        TIMESTAMP_LTZ(3),
    event_at AS TO_TIMESTAMP_LTZ(message_create_time, 3),  -- event time of the windowed marts
    -- Event times inside a topic are in order up to a 2 s jitter; 10 s (configurable) keeps
    -- that jitter out of late_events while anything minutes behind is late.
    WATERMARK FOR event_at AS event_at - INTERVAL '${WATERMARK_DELAY_SECONDS}' SECOND
);
