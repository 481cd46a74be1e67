-- Cleans device samples (classroom_device_sample: microphone, speaker, camera, CPU) into
-- classroom_device_sample_clean. Grain: one row per valid sample; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1.

-- One parse per message (parse_message, jvm/udf/README.md): malformed_json, then missing_field
-- (a required field absent or null), then wrong_type (an object or array where a scalar belongs,
-- a non-integer number, a room id outside unsigned 64 bits).
-- Then the rules beyond the parse, in the contract's order (section 0): an enum outside its list
-- (case-sensitive) or a number outside its range is wrong_type (integers have at most 18 digits,
-- as before the port), then future_timestamp (client_time > server_time + 5 min).
CREATE TEMPORARY VIEW device_checked AS
SELECT
    m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at,
    p.room_id, p.user_id, p.role, p.client_time, p.server_time,
    p.mic, p.speaker, p.camera, p.cpu_pct,
    COALESCE(p.reason, CASE
        WHEN NOT (
            p.user_id BETWEEN -999999999999999999 AND 999999999999999999
                AND p.client_time BETWEEN -999999999999999999 AND 999999999999999999
                AND p.server_time BETWEEN -999999999999999999 AND 999999999999999999
                AND p.role IN ('teacher', 'student', 'fm')
                AND p.mic IN ('ok', 'missing', 'denied', 'error')
                AND p.speaker IN ('ok', 'missing', 'denied', 'error')
                AND p.camera IN ('ok', 'missing', 'denied', 'error')
                AND p.cpu_pct BETWEEN 0 AND 100)
            THEN 'wrong_type'
        WHEN p.client_time > p.server_time + 300000 THEN 'future_timestamp'
    END) AS reason
FROM classroom_device_sample AS m,
    LATERAL TABLE(parse_message(m.payload, '
        room_id      UBIGINT  room_id      NOT NULL,
        user_id      BIGINT   user_id      NOT NULL,
        role         STRING   role         NOT NULL,
        client_time  BIGINT   client_time  NOT NULL,
        server_time  BIGINT   server_time  NOT NULL,
        mic          STRING   mic          NOT NULL,
        speaker      STRING   speaker      NOT NULL,
        camera       STRING   camera       NOT NULL,
        cpu_pct      BIGINT   cpu_pct      NOT NULL
    ')) AS p;

INSERT INTO classroom_device_sample_clean
SELECT
    source_split, source_offset,
    room_id, user_id, role, client_time, server_time,
    mic, speaker, camera, cpu_pct,
    ingested_at, processed_at
FROM device_checked
WHERE reason IS NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'classroom_device_sample', checked = 'device_checked');
