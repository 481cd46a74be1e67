-- Flat audio/video quality records: one row per valid agora_record message. Written by the cleaning
-- job as JSON lines; read back by the mart jobs with an event-time watermark: only clean, natural
-- events reach it, so a future timestamp can never move it.
CREATE TABLE agora_record_clean (
    source_split        STRING,
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
) WITH (
    'connector' = 'kafka',
    'topic' = 'agora_record_clean',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.max.partition.fetch.bytes' = '${KAFKA_FETCH_PARTITION_BYTES}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'properties.group.id' = '${KAFKA_GROUP_ID}',
    'properties.auto.offset.reset' = 'earliest',
    -- written in Flink transactions: read only committed ones (the client default reads aborted too)
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = 'group-offsets',
    -- watermarks are per partition; a partition quiet this long stops holding them back
    'scan.watermark.idle-timeout' = '${WATERMARK_IDLE_TIMEOUT}',
    'format' = 'json',
    -- each writer to its own partition: a source split (read by one writer) stays in one partition,
    -- in order, so the marts' per-split late rule and the partition's watermark see the same
    -- sequence (partitions >= parallelism >= source partitions)
    'sink.partitioner' = 'fixed',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-agora_record_clean'
);
