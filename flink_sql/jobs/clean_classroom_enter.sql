-- Cleans room enter/leave attempts (classroom_enter) into classroom_enter_clean. Grain: one row
-- per valid message; rejected messages go to rejected_messages, counts to topic_accounting.
-- Rules: LIVE_CLASSROOM_CONTRACT.md 0 and A.1 (seed 000's "enter" stream).

-- One parse per message (parse_message, jvm/udf/README.md), then the contract's order (section
-- 0): malformed_json; missing_field, a required field absent or null, or a conditional one:
-- result and started_at when action is enter, failed_component when result is fail (the
-- PRESENT columns and the values that converted survive a wrong type, so a conditional
-- missing field outranks it); wrong_type, from the parse (an object or array where a scalar
-- belongs, a non-integer number, a room id outside unsigned 64 bits) or an enum outside its
-- list (case-sensitive), an integer beyond 18 digits; then future_timestamp.
CREATE TEMPORARY VIEW enter_checked AS
SELECT
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    parsed.room_id, parsed.user_id, parsed.role, parsed.client_time, parsed.server_time,
    parsed.enter_action, parsed.enter_result, parsed.started_at, parsed.failed_component,
    CASE
        WHEN parsed.reason IN ('malformed_json', 'missing_field') THEN parsed.reason
        WHEN (parsed.enter_action = 'enter' AND NOT (parsed.has_result AND parsed.has_started_at))
            OR (parsed.enter_result = 'fail' AND NOT parsed.has_failed_component)
            THEN 'missing_field'
        WHEN parsed.reason IS NOT NULL THEN parsed.reason
        WHEN NOT (
            parsed.user_id BETWEEN -999999999999999999 AND 999999999999999999
                AND parsed.role IN ('teacher', 'student', 'fm')
                AND parsed.client_time BETWEEN -999999999999999999 AND 999999999999999999
                AND parsed.server_time BETWEEN -999999999999999999 AND 999999999999999999
                AND parsed.enter_action IN ('enter', 'leave'))
            -- optional fields present and not null are checked like required ones
            OR NOT COALESCE(parsed.enter_result IN ('success', 'fail'), TRUE)
            OR NOT COALESCE(
                parsed.started_at BETWEEN -999999999999999999 AND 999999999999999999, TRUE)
            OR NOT COALESCE(
                parsed.failed_component IN ('sdk', 'gateway', 'media', 'message', 'courseware'), TRUE)
            THEN 'wrong_type'
        WHEN parsed.client_time > parsed.server_time + 300000 THEN 'future_timestamp'
    END AS reason
FROM classroom_enter AS message,
    LATERAL TABLE(parse_message(message.payload, '
        room_id               UBIGINT  room_id           NOT NULL,
        user_id               BIGINT   user_id           NOT NULL,
        role                  STRING   role              NOT NULL,
        client_time           BIGINT   client_time       NOT NULL,
        server_time           BIGINT   server_time       NOT NULL,
        enter_action          STRING   action            NOT NULL,
        enter_result          STRING   result,
        has_result            PRESENT  result,
        started_at            BIGINT   started_at,
        has_started_at        PRESENT  started_at,
        failed_component      STRING   failed_component,
        has_failed_component  PRESENT  failed_component
    ')) AS parsed;

INSERT INTO classroom_enter_clean
SELECT
    source_split, source_offset,
    room_id, user_id, role, client_time, server_time,
    enter_action, enter_result, started_at, failed_component,
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
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
    MIN(source_offset) AS first_offset
FROM enter_checked
GROUP BY source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, first_offset, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE enter_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
