-- Cleans room heartbeats (room_heartbeat) into the flat topic room_heartbeat_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0 and B.1 (seed 002).

-- Each field is read with JSON_VALUE in strict mode (NULL when absent, null or not a scalar); a
-- NULL text whose JSON_QUERY is not NULL is an object or array: a wrong type, not a missing field.
-- The message_position (1-based line number; a file is read front to back by one reader) keys the message.
CREATE TEMPORARY VIEW heartbeat_fields AS
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
    JSON_VALUE(payload, 'strict $.kind') AS kind_text,
    JSON_VALUE(payload, 'strict $.server_time') AS server_time_text
FROM room_heartbeat;

-- Precedence: malformed_json, then missing_field (a required field absent or null), then
-- wrong_type (non-integer number, empty terminal, kind outside enter|beat|leave: section 0).
CREATE TEMPORARY VIEW heartbeat_verdicts AS
SELECT
    *,
    CASE
        WHEN NOT is_object THEN 'malformed_json'
        WHEN (bid_text IS NULL AND JSON_QUERY(payload, 'strict $.bid') IS NULL)
            OR (room_id_text IS NULL AND JSON_QUERY(payload, 'strict $.room_id') IS NULL)
            OR (uid_text IS NULL AND JSON_QUERY(payload, 'strict $.uid') IS NULL)
            OR (terminal_text IS NULL AND JSON_QUERY(payload, 'strict $.terminal') IS NULL)
            OR (kind_text IS NULL AND JSON_QUERY(payload, 'strict $.kind') IS NULL)
            OR (server_time_text IS NULL AND JSON_QUERY(payload, 'strict $.server_time') IS NULL)
            THEN 'missing_field'
        WHEN room_id_text IS NULL OR terminal_text IS NULL OR kind_text IS NULL
            OR NOT REGEXP(COALESCE(bid_text, ''), '^-?[0-9]{1,18}$')
            OR NOT REGEXP(COALESCE(uid_text, ''), '^-?[0-9]{1,18}$')
            OR NOT REGEXP(COALESCE(server_time_text, ''), '^-?[0-9]{1,18}$')
            OR terminal_text = ''
            OR kind_text NOT IN ('enter', 'beat', 'leave')
            THEN 'wrong_type'
    END AS reason
FROM heartbeat_fields;

INSERT INTO room_heartbeat_clean
SELECT
    CONCAT('room_heartbeat|', source_split, '|', CAST(message_position AS STRING)),
    source_split,
    CAST(bid_text AS BIGINT),
    room_id_text,
    CAST(uid_text AS BIGINT),
    terminal_text,
    kind_text,
    CAST(server_time_text AS BIGINT),
    ingested_at,
    processed_at
FROM heartbeat_verdicts
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'room_heartbeat', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM heartbeat_verdicts
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW heartbeat_split_counts AS
SELECT
    'room_heartbeat' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM heartbeat_verdicts
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE heartbeat_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
