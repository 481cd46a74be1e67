-- Every valid channel dictionary version (latest-version resolution happens downstream). Written by
-- the cleaning job as JSON lines; read back by the mart jobs.
-- role: clean_topic
create table channel_name_dictionary_clean (
    source_split string,
    source_offset bigint,  -- Kafka offset; NULL for files
    id string,
    chinese_name string,
    english_name string,
    `level` string,
    pid string,
    create_time string,
    update_time string,
    dept_id string,
    -- position among the valid messages of its split: ties go to the later message
    message_seq bigint,
    ingested_at timestamp_ltz(3),
    processed_at timestamp_ltz(3)
);
