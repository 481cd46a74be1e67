-- Every valid student snapshot version (latest-version resolution happens downstream). Written by
-- the cleaning job as JSON lines; read back by the mart jobs.
-- role: clean_topic
create table uc_account_student_clean (
    source_split string,
    source_offset bigint,  -- Kafka offset; NULL for files
    id string,
    channel_id string,
    update_time string,
    -- position among the valid messages of its split: ties go to the later message
    message_seq bigint,
    ingested_at timestamp_ltz(3),
    processed_at timestamp_ltz(3)
);
