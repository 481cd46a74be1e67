-- topic: qos_log_clean
-- grain: one row per valid recorded-course client log message (Flink job clean_qos_log)
create table if not exists ods.qos_log_clean
(
    -- include: source_message
    classroom_id String,
    user_type LowCardinality(String),
    user_id Int64,
    event_time Int64 comment 'epoch ms',
    sub_event LowCardinality(String),
    data_time Int64 comment 'extra.data_time, epoch ms',
    ppt_index Nullable(Int64),
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
partition by toDate(intDiv(data_time, 1000), 'Asia/Shanghai')
order BY (user_id, classroom_id, data_time)
-- include: deduplicated_inserts
