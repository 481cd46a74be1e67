-- Cleans dynamic-courseware events (classroom_courseware_event) into
-- classroom_courseware_event_clean. Grain: one row per valid event; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1 ("dby").

-- Text of each field (strict JSON_VALUE: NULL when absent, null, an object or an array).
CREATE TEMPORARY VIEW courseware_fields AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    payload IS JSON OBJECT AS is_object,
    JSON_VALUE(payload, 'strict $.room_id') AS room_id_text,
    JSON_VALUE(payload, 'strict $.user_id') AS user_id_text,
    JSON_VALUE(payload, 'strict $.role') AS role_text,
    JSON_VALUE(payload, 'strict $.client_time') AS client_time_text,
    JSON_VALUE(payload, 'strict $.server_time') AS server_time_text,
    JSON_VALUE(payload, 'strict $.action') AS action_text,
    JSON_VALUE(payload, 'strict $.origin') AS origin_text,
    JSON_VALUE(payload, 'strict $.result') AS result_text,
    JSON_VALUE(payload, 'strict $.lag_ms') AS lag_ms_text,
    -- JSON_EXISTS is FALSE for an absent field and for null: both are "missing"
    NOT JSON_EXISTS(payload, 'strict $.room_id')
        OR NOT JSON_EXISTS(payload, 'strict $.user_id')
        OR NOT JSON_EXISTS(payload, 'strict $.role')
        OR NOT JSON_EXISTS(payload, 'strict $.client_time')
        OR NOT JSON_EXISTS(payload, 'strict $.server_time')
        OR NOT JSON_EXISTS(payload, 'strict $.action')
        OR NOT JSON_EXISTS(payload, 'strict $.origin')
        OR NOT JSON_EXISTS(payload, 'strict $.result') AS required_missing,
    JSON_EXISTS(payload, 'strict $.lag_ms') AS has_lag_ms
FROM classroom_courseware_event;

CREATE TEMPORARY VIEW courseware_checked AS
SELECT
    *,
    CASE
        WHEN NOT is_object THEN 'malformed_json'
        WHEN required_missing THEN 'missing_field'
        -- ids and epochs are integers (JSON numbers or numeric strings), enums case-sensitive,
        -- numbers in their stated ranges; an optional field present and not null is checked too
        WHEN NOT COALESCE(
                REGEXP(room_id_text, '^[0-9]{1,20}$')
                AND TRY_CAST(room_id_text AS DECIMAL(20, 0)) <= CAST('18446744073709551615' AS DECIMAL(20, 0))
                AND REGEXP(user_id_text, '^-?[0-9]{1,18}$')
                AND role_text IN ('teacher', 'student', 'fm')
                AND REGEXP(client_time_text, '^-?[0-9]{1,18}$')
                AND REGEXP(server_time_text, '^-?[0-9]{1,18}$')
                AND action_text IN ('load', 'page_turn', 'draw', 'drag')
                AND origin_text IN ('self', 'peer')
                AND result_text IN ('ok', 'fail'), FALSE)
            OR (has_lag_ms AND NOT COALESCE(
                REGEXP(lag_ms_text, '^-?[0-9]{1,18}$') AND TRY_CAST(lag_ms_text AS BIGINT) >= 0, FALSE))
            THEN 'wrong_type'
        WHEN TRY_CAST(client_time_text AS BIGINT) > TRY_CAST(server_time_text AS BIGINT) + 300000
            THEN 'future_timestamp'
    END AS reason
FROM courseware_fields;

INSERT INTO classroom_courseware_event_clean
SELECT
    source_split, source_offset,
    TRY_CAST(room_id_text AS DECIMAL(20, 0)), TRY_CAST(user_id_text AS BIGINT), role_text,
    TRY_CAST(client_time_text AS BIGINT), TRY_CAST(server_time_text AS BIGINT),
    action_text, origin_text, result_text, TRY_CAST(lag_ms_text AS BIGINT),
    ingested_at, processed_at
FROM courseware_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'classroom_courseware_event', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM courseware_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW courseware_split_counts AS
SELECT
    'classroom_courseware_event' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM courseware_checked
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE courseware_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
