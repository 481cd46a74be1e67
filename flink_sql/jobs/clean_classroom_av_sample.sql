-- Cleans what a user receives, audio and video samples (classroom_av_sample), into
-- classroom_av_sample_clean. Grain: one row per valid sample; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1 ("av").

-- One parse per message (parse_message, jvm/udf/README.md): malformed_json, then missing_field
-- (a required field absent or null), then wrong_type (an object or array where a scalar belongs,
-- a non-integer number, a room id outside unsigned 64 bits).
-- Then the rules beyond the parse, in the contract's order (section 0): an enum outside its list
-- (case-sensitive) or a number outside its range is wrong_type (integers have at most 18 digits,
-- as before the port), then future_timestamp (client_time > server_time + 5 min).
CREATE TEMPORARY VIEW av_checked AS
SELECT
    m.payload, m.source_split, m.source_offset, m.ingested_at, m.processed_at,
    p.room_id, p.user_id, p.role, p.client_time, p.server_time,
    p.media, p.interval_ms, p.bitrate_kbps, p.freeze_ms, p.loss_pct, p.rtt_ms,
    COALESCE(p.reason, CASE
        WHEN NOT (
            p.user_id BETWEEN -999999999999999999 AND 999999999999999999
                AND p.client_time BETWEEN -999999999999999999 AND 999999999999999999
                AND p.server_time BETWEEN -999999999999999999 AND 999999999999999999
                AND p.role IN ('teacher', 'student', 'fm')
                AND p.media IN ('audio', 'video')
                AND p.interval_ms BETWEEN 1 AND 999999999999999999
                AND p.bitrate_kbps BETWEEN 0 AND 999999999999999999
                AND p.freeze_ms BETWEEN 0 AND p.interval_ms
                AND p.loss_pct BETWEEN 0 AND 100
                AND p.rtt_ms BETWEEN 0 AND 999999999999999999)
            THEN 'wrong_type'
        WHEN p.client_time > p.server_time + 300000 THEN 'future_timestamp'
    END) AS reason
FROM classroom_av_sample AS m,
    LATERAL TABLE(parse_message(m.payload, '
        room_id      UBIGINT  room_id      NOT NULL,
        user_id      BIGINT   user_id      NOT NULL,
        role         STRING   role         NOT NULL,
        client_time  BIGINT   client_time  NOT NULL,
        server_time  BIGINT   server_time  NOT NULL,
        media        STRING   media        NOT NULL,
        interval_ms  BIGINT   interval_ms  NOT NULL,
        bitrate_kbps BIGINT   bitrate_kbps NOT NULL,
        freeze_ms    BIGINT   freeze_ms    NOT NULL,
        loss_pct     BIGINT   loss_pct     NOT NULL,
        rtt_ms       BIGINT   rtt_ms       NOT NULL
    ')) AS p;

INSERT INTO classroom_av_sample_clean
SELECT
    source_split, source_offset,
    room_id, user_id, role, client_time, server_time,
    media, interval_ms, bitrate_kbps, freeze_ms, loss_pct, rtt_ms,
    ingested_at, processed_at
FROM av_checked
WHERE reason IS NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'classroom_av_sample', checked = 'av_checked');
