-- Flat recorded-course log: one row per valid qos_log message. Written by the cleaning job as JSON
-- lines; read back by the mart jobs with an event-time watermark: only clean, natural events reach
-- it, so a future timestamp can never move it.
-- role: event_stream
create table qos_log_clean (
    source_split string,
    source_offset bigint,  -- Kafka offset; NULL for files
    classroom_id string,
    user_type string,
    user_id bigint,
    event_time bigint,  -- epoch ms
    sub_event string,
    data_time bigint,  -- extra.data_time (epoch ms), the event time
    ppt_index bigint,  -- extra.msg.pptIndex
    ingested_at timestamp_ltz(3),
    processed_at timestamp_ltz(3),
    event_at as to_timestamp_ltz(data_time, 3),  -- event time of the windowed marts
    -- Event times inside a topic are in order up to a 2 s jitter; 10 s (configurable) keeps
    -- that jitter out of late_events while anything minutes behind is late.
    watermark for event_at as event_at - interval '${WATERMARK_DELAY_SECONDS}' second
);
