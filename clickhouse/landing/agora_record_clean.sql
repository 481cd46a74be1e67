-- topic: agora_record_clean
-- grain: one row per valid audio/video quality record (cleaned by Flink job clean_agora_record)
create table if not exists ods.agora_record_clean
(
    -- include: source_message
    classroom_id Nullable(String),
    user_type LowCardinality(String),
    user_id Nullable(Int64),
    agora_channel_id Nullable(Int64),
    event LowCardinality(String),
    video_fr Nullable(Int64),
    video_uid Nullable(Int64),
    audio_lost Nullable(Int64),
    audio_uid Nullable(Int64),
    message_create_time Int64 comment 'epoch ms, the event time',
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
partition by toDate(intDiv(message_create_time, 1000), 'Asia/Shanghai')
order BY (user_type, message_create_time)
-- include: deduplicated_inserts
