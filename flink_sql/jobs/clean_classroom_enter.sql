-- Cleans room enter/leave attempts (classroom_enter) into classroom_enter_clean. Grain: one row
-- per valid message; rejected messages go to rejected_messages, counts to topic_accounting.
-- Rules: LIVE_CLASSROOM_CONTRACT.md 0 and A.1 (seed 000's "enter" stream).

-- Text of each field (strict JSON_VALUE: NULL when absent, null, an object or an array).
CREATE TEMPORARY VIEW enter_fields AS
SELECT
    payload, source_split, source_offset, ingested_at, processed_at,
    payload IS JSON OBJECT AS is_object,
    JSON_VALUE(payload, 'strict $.room_id') AS room_id_text,
    JSON_VALUE(payload, 'strict $.user_id') AS user_id_text,
    JSON_VALUE(payload, 'strict $.role') AS role_text,
    JSON_VALUE(payload, 'strict $.client_time') AS client_time_text,
    JSON_VALUE(payload, 'strict $.server_time') AS server_time_text,
    JSON_VALUE(payload, 'strict $.action') AS action_text,
    JSON_VALUE(payload, 'strict $.result') AS result_text,
    JSON_VALUE(payload, 'strict $.started_at') AS started_at_text,
    JSON_VALUE(payload, 'strict $.failed_component') AS failed_component_text,
    -- JSON_EXISTS is FALSE for an absent field and for null: both are "missing"
    NOT JSON_EXISTS(payload, 'strict $.room_id')
        OR NOT JSON_EXISTS(payload, 'strict $.user_id')
        OR NOT JSON_EXISTS(payload, 'strict $.role')
        OR NOT JSON_EXISTS(payload, 'strict $.client_time')
        OR NOT JSON_EXISTS(payload, 'strict $.server_time')
        OR NOT JSON_EXISTS(payload, 'strict $.action') AS envelope_missing,
    JSON_EXISTS(payload, 'strict $.result') AS has_result,
    JSON_EXISTS(payload, 'strict $.started_at') AS has_started_at,
    JSON_EXISTS(payload, 'strict $.failed_component') AS has_failed_component
FROM classroom_enter;

CREATE TEMPORARY VIEW enter_checked AS
SELECT
    *,
    CASE
        WHEN NOT is_object THEN 'malformed_json'
        WHEN envelope_missing
            OR (action_text = 'enter' AND NOT (has_result AND has_started_at))
            OR (result_text = 'fail' AND NOT has_failed_component)
            THEN 'missing_field'
        -- ids and epochs are integers (JSON numbers or numeric strings), enums case-sensitive;
        -- optional fields present and not null are checked like required ones
        WHEN NOT COALESCE(
                REGEXP(room_id_text, '^[0-9]{1,20}$')
                AND TRY_CAST(room_id_text AS DECIMAL(20, 0)) <= CAST('18446744073709551615' AS DECIMAL(20, 0))
                AND REGEXP(user_id_text, '^-?[0-9]{1,18}$')
                AND role_text IN ('teacher', 'student', 'fm')
                AND REGEXP(client_time_text, '^-?[0-9]{1,18}$')
                AND REGEXP(server_time_text, '^-?[0-9]{1,18}$')
                AND action_text IN ('enter', 'leave'), FALSE)
            OR (has_result AND NOT COALESCE(result_text IN ('success', 'fail'), FALSE))
            OR (has_started_at
                AND NOT COALESCE(REGEXP(started_at_text, '^-?[0-9]{1,18}$'), FALSE))
            OR (has_failed_component AND NOT COALESCE(
                failed_component_text IN ('sdk', 'gateway', 'media', 'message', 'courseware'),
                FALSE))
            THEN 'wrong_type'
        WHEN TRY_CAST(client_time_text AS BIGINT) > TRY_CAST(server_time_text AS BIGINT) + 300000
            THEN 'future_timestamp'
    END AS reason
FROM enter_fields;

INSERT INTO classroom_enter_clean
SELECT
    source_split, source_offset,
    TRY_CAST(room_id_text AS DECIMAL(20, 0)), TRY_CAST(user_id_text AS BIGINT), role_text,
    TRY_CAST(client_time_text AS BIGINT), TRY_CAST(server_time_text AS BIGINT),
    action_text, result_text, TRY_CAST(started_at_text AS BIGINT), failed_component_text,
    ingested_at, processed_at
FROM enter_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'classroom_enter', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM enter_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW enter_split_counts AS
SELECT
    'classroom_enter' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected
FROM enter_checked
GROUP BY source_split;

-- Counts only grow, so the newest row of a split is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE enter_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
