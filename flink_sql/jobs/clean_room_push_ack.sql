-- Cleans client push reports (room_push_ack) into the flat topic room_push_ack_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0 and B.1 (seed 002).

-- Fields as in clean_room_heartbeat; missing_msgids is read as an array (JSON_QUERY).
CREATE TEMPORARY VIEW push_ack_fields AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    COALESCE(source_offset, COUNT(*) OVER (
        PARTITION BY source_split ORDER BY processed_at
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )) AS message_position,
    payload IS JSON OBJECT AS is_object,
    JSON_VALUE(payload, 'strict $.bid') AS bid_text,
    JSON_VALUE(payload, 'strict $.room_id') AS room_id_text,
    JSON_VALUE(payload, 'strict $.uid') AS uid_text,
    JSON_VALUE(payload, 'strict $.terminal') AS terminal_text,
    JSON_VALUE(payload, 'strict $.server_time') AS server_time_text,
    JSON_VALUE(payload, 'strict $.max_msgid') AS max_msgid_text,
    JSON_VALUE(payload, 'strict $.missing_msgids') AS missing_scalar,
    JSON_QUERY(payload, 'strict $.missing_msgids') AS missing_text
FROM room_push_ack;

-- missing_msgids: an array of distinct integers x, 1 <= x < max_msgid (numeric strings allowed);
-- anything else is wrong_type (B.1). The array's JSON text is checked element by element by one
-- pattern, then its numbers are compared as an ARRAY<BIGINT>.
CREATE TEMPORARY VIEW push_ack_verdicts AS
SELECT
    *,
    CASE
        WHEN NOT is_object THEN 'malformed_json'
        WHEN (bid_text IS NULL AND JSON_QUERY(payload, 'strict $.bid') IS NULL)
            OR (room_id_text IS NULL AND JSON_QUERY(payload, 'strict $.room_id') IS NULL)
            OR (uid_text IS NULL AND JSON_QUERY(payload, 'strict $.uid') IS NULL)
            OR (terminal_text IS NULL AND JSON_QUERY(payload, 'strict $.terminal') IS NULL)
            OR (server_time_text IS NULL AND JSON_QUERY(payload, 'strict $.server_time') IS NULL)
            OR (max_msgid_text IS NULL AND JSON_QUERY(payload, 'strict $.max_msgid') IS NULL)
            OR (missing_scalar IS NULL AND missing_text IS NULL)
            THEN 'missing_field'
        WHEN room_id_text IS NULL OR terminal_text IS NULL OR terminal_text = ''
            OR NOT REGEXP(COALESCE(bid_text, ''), '^-?[0-9]{1,18}$')
            OR NOT REGEXP(COALESCE(uid_text, ''), '^-?[0-9]{1,18}$')
            OR NOT REGEXP(COALESCE(server_time_text, ''), '^-?[0-9]{1,18}$')
            OR NOT REGEXP(COALESCE(max_msgid_text, ''), '^[0-9]{1,18}$')
            OR missing_scalar IS NOT NULL
            OR NOT REGEXP(
                missing_text, '^\[\s*(("?[0-9]{1,18}"?)(\s*,\s*"?[0-9]{1,18}"?)*)?\s*\]$')
            -- NULL (not a list of numbers) is a wrong type too
            OR COALESCE(CARDINALITY(ARRAY_DISTINCT(missing_ids)) <> CARDINALITY(missing_ids), TRUE)
            OR COALESCE(ARRAY_MIN(missing_ids), 1) < 1
            OR COALESCE(ARRAY_MAX(missing_ids) >= TRY_CAST(max_msgid_text AS BIGINT), FALSE)
            THEN 'wrong_type'
    END AS reason
FROM (
    SELECT
        *,
        CAST(REGEXP_EXTRACT_ALL(COALESCE(missing_text, '[]'), '([0-9]+)', 1) AS ARRAY<BIGINT>)
            AS missing_ids
    FROM push_ack_fields
);

INSERT INTO room_push_ack_clean
SELECT
    CONCAT('room_push_ack|', source_split, '|', CAST(message_position AS STRING)),
    source_split,
    CAST(bid_text AS BIGINT),
    room_id_text,
    CAST(uid_text AS BIGINT),
    terminal_text,
    CAST(server_time_text AS BIGINT),
    CAST(max_msgid_text AS BIGINT),
    missing_ids,
    CARDINALITY(missing_ids),
    message_position,
    ingested_at,
    processed_at
FROM push_ack_verdicts
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'room_push_ack', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM push_ack_verdicts
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW push_ack_split_counts AS
SELECT
    'room_push_ack' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM push_ack_verdicts
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE push_ack_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
