-- Cleans student account snapshots (uc_account-student) into uc_account_student_clean. Grain: one
-- row per valid version; every version is kept with its position (message_seq) so the marts resolve
-- the latest one. Rejections go to rejected_messages, counts to topic_accounting. Rules:
-- DATA_CONTRACT.md, topic uc_account-student (seed scene 4).

-- Parsing: parse_message (flink_sql/functions.sql, jvm/udf) reads each message once: not exactly
-- one JSON object -> malformed_json; a NOT NULL field absent or null -> missing_field; a value its
-- type does not take (an object or array, an update_time that is not a real YYYY-MM-DD HH:MM:SS)
-- -> wrong_type. channel_id may be null or absent: such a student counts under level 'other'.
CREATE TEMPORARY VIEW student_checked AS
SELECT
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at, parsed.reason,
    parsed.id, parsed.channel_id, parsed.update_time
FROM uc_account_student AS message,
    LATERAL TABLE(parse_message(message.payload, '
        id           ID        id            NOT NULL,
        channel_id   ID        channel_id,
        update_time  DATETIME  update_time   NOT NULL
    ')) AS parsed;

-- message_seq numbers the valid messages of each split in reading order (a file is read front to
-- back by one reader): the tie-break when two versions share an update_time.
INSERT INTO uc_account_student_clean
SELECT
    source_split, id, channel_id, update_time,
    COUNT(*) OVER (
        PARTITION BY source_split ORDER BY processed_at
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ),
    ingested_at, processed_at
FROM student_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'uc_account-student', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM student_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW student_split_counts AS
SELECT
    'uc_account-student' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
    MIN(source_offset) AS first_offset
FROM student_checked
GROUP BY source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, first_offset, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE student_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
