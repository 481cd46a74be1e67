-- Cleans dynamic-courseware events (classroom_courseware_event) into
-- classroom_courseware_event_clean. Grain: one row per valid event; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1 ("dby").

-- One parse per message (parse_message, jvm/udf/README.md): malformed_json, then missing_field
-- (a required field absent or null), then wrong_type (an object or array where a scalar belongs,
-- a non-integer number, a room id outside unsigned 64 bits).
-- Then the rules beyond the parse, in the contract's order (section 0): an enum outside its list
-- (case-sensitive) or a number outside its range is wrong_type (integers have at most 18 digits,
-- as before the port), then future_timestamp (client_time > server_time + 5 min).
CREATE TEMPORARY VIEW courseware_checked AS
SELECT
    m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at,
    p.room_id, p.user_id, p.role, p.client_time, p.server_time,
    p.action, p.origin, p.result_code, p.lag_ms,
    COALESCE(p.reason, CASE
        WHEN NOT (
            p.user_id BETWEEN -999999999999999999 AND 999999999999999999
                AND p.client_time BETWEEN -999999999999999999 AND 999999999999999999
                AND p.server_time BETWEEN -999999999999999999 AND 999999999999999999
                AND p.role IN ('teacher', 'student', 'fm')
                AND p.action IN ('load', 'page_turn', 'draw', 'drag')
                AND p.origin IN ('self', 'peer')
                AND p.result_code IN ('ok', 'fail')
                -- optional: checked when present and not null
                AND (p.lag_ms IS NULL OR p.lag_ms BETWEEN 0 AND 999999999999999999))
            THEN 'wrong_type'
        WHEN p.client_time > p.server_time + 300000 THEN 'future_timestamp'
    END) AS reason
FROM classroom_courseware_event AS m,
    LATERAL TABLE(parse_message(m.payload, '
        room_id      UBIGINT  room_id      NOT NULL,
        user_id      BIGINT   user_id      NOT NULL,
        role         STRING   role         NOT NULL,
        client_time  BIGINT   client_time  NOT NULL,
        server_time  BIGINT   server_time  NOT NULL,
        action       STRING   action       NOT NULL,
        origin       STRING   origin       NOT NULL,
        result_code  STRING   result       NOT NULL,
        lag_ms       BIGINT   lag_ms
    ')) AS p;

INSERT INTO classroom_courseware_event_clean
SELECT
    source_split, source_offset,
    room_id, user_id, role, client_time, server_time,
    action, origin, result_code, lag_ms,
    ingested_at, processed_at
FROM courseware_checked
WHERE reason IS NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'classroom_courseware_event', checked = 'courseware_checked');
