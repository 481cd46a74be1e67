-- topic: uc_account_student_clean
-- grain: one row per valid student snapshot version (Flink job clean_uc_account_student)
create table if not exists ods.uc_account_student_clean
(
    -- include: source_message
    id String,
    channel_id String,
    update_time String comment 'YYYY-MM-DD HH:MM:SS, business time zone',
    message_seq Int64 comment 'position in its split: ties go to the later message',
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
order BY (id, update_time)
-- include: deduplicated_inserts
