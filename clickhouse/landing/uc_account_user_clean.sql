-- topic: uc_account_user_clean
-- grain: one row per valid user snapshot version (Flink job clean_uc_account_user)
create table if not exists ods.uc_account_user_clean
(
    -- include: source_message
    id String,
    name String,
    register_date_time String comment 'YYYY-MM-DD HH:MM:SS, business time zone',
    status LowCardinality(String),
    update_time String,
    message_seq Int64,
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
order BY (id, update_time)
-- include: deduplicated_inserts
