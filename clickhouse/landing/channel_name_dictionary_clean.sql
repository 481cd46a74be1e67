-- topic: channel_name_dictionary_clean
-- grain: one row per valid channel dictionary version (Flink job clean_channel_name_dictionary)
create table if not exists ods.channel_name_dictionary_clean
(
    -- include: source_message
    id String,
    chinese_name String,
    english_name String,
    level LowCardinality(String),
    pid String,
    create_time String,
    update_time String,
    dept_id String,
    message_seq Int64,
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
order BY (id, update_time)
-- include: deduplicated_inserts
