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
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    parsed.room_id, parsed.user_id, parsed.role, parsed.client_time, parsed.server_time,
    parsed.media, parsed.interval_ms, parsed.bitrate_kbps, parsed.freeze_ms, parsed.loss_pct, parsed.rtt_ms,
    COALESCE(parsed.reason, CASE
        WHEN NOT (
            parsed.user_id BETWEEN -999999999999999999 AND 999999999999999999
                AND parsed.client_time BETWEEN -999999999999999999 AND 999999999999999999
                AND parsed.server_time BETWEEN -999999999999999999 AND 999999999999999999
                AND parsed.role IN ('teacher', 'student', 'fm')
                AND parsed.media IN ('audio', 'video')
                AND parsed.interval_ms BETWEEN 1 AND 999999999999999999
                AND parsed.bitrate_kbps BETWEEN 0 AND 999999999999999999
                AND parsed.freeze_ms BETWEEN 0 AND parsed.interval_ms
                AND parsed.loss_pct BETWEEN 0 AND 100
                AND parsed.rtt_ms BETWEEN 0 AND 999999999999999999)
            THEN 'wrong_type'
        WHEN parsed.client_time > parsed.server_time + 300000 THEN 'future_timestamp'
    END) AS reason
FROM classroom_av_sample AS message,
    LATERAL TABLE(parse_message(message.payload, '
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
    ')) AS parsed;

INSERT INTO classroom_av_sample_clean
SELECT
    source_split, source_offset,
    room_id, user_id, role, client_time, server_time,
    media, interval_ms, bitrate_kbps, freeze_ms, loss_pct, rtt_ms,
    ingested_at, processed_at
FROM av_checked
WHERE reason IS NULL;

INSERT INTO rejected_messages
SELECT 'classroom_av_sample', payload, reason, source_split, source_offset, ingested_at, processed_at
FROM av_checked
WHERE reason IS NOT NULL;

CREATE TEMPORARY VIEW av_split_counts AS
SELECT
    'classroom_av_sample' AS topic,
    source_split,
    COUNT(*) AS messages_read,
    COUNT(*) FILTER (WHERE reason IS NULL) AS accepted,
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
    MIN(source_offset) AS first_offset
FROM av_checked
GROUP BY source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, first_offset, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE av_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
