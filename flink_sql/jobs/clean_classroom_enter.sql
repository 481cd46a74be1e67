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
    m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at,
    p.room_id, p.user_id, p.role, p.client_time, p.server_time,
    p.enter_action, p.enter_result, p.started_at, p.failed_component,
    CASE
        WHEN p.reason IN ('malformed_json', 'missing_field') THEN p.reason
        WHEN (p.enter_action = 'enter' AND NOT (p.has_result AND p.has_started_at))
            OR (p.enter_result = 'fail' AND NOT p.has_failed_component)
            THEN 'missing_field'
        WHEN p.reason IS NOT NULL THEN p.reason
        WHEN NOT (
            p.user_id BETWEEN -999999999999999999 AND 999999999999999999
                AND p.role IN ('teacher', 'student', 'fm')
                AND p.client_time BETWEEN -999999999999999999 AND 999999999999999999
                AND p.server_time BETWEEN -999999999999999999 AND 999999999999999999
                AND p.enter_action IN ('enter', 'leave'))
            -- optional fields present and not null are checked like required ones
            OR NOT COALESCE(p.enter_result IN ('success', 'fail'), TRUE)
            OR NOT COALESCE(
                p.started_at BETWEEN -999999999999999999 AND 999999999999999999, TRUE)
            OR NOT COALESCE(
                p.failed_component IN ('sdk', 'gateway', 'media', 'message', 'courseware'), TRUE)
            THEN 'wrong_type'
        WHEN p.client_time > p.server_time + 300000 THEN 'future_timestamp'
    END AS reason
FROM classroom_enter AS m,
    LATERAL TABLE(parse_message(m.payload, '
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
    ')) AS p;

INSERT INTO classroom_enter_clean
SELECT
    source_split, source_offset,
    room_id, user_id, role, client_time, server_time,
    enter_action, enter_result, started_at, failed_component,
    ingested_at, processed_at
FROM enter_checked
WHERE reason IS NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'classroom_enter', checked = 'enter_checked');
