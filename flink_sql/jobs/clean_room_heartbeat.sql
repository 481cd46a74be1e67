-- Cleans room heartbeats (room_heartbeat) into the flat topic room_heartbeat_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0 and B.1 (seed 002).

-- One parse per message (parse_message, jvm/udf/README.md): malformed_json, then missing_field
-- (a required field absent or null), then wrong_type (an object or array where a scalar belongs,
-- a non-integer bid, uid or server_time). The message's Kafka offset (message_position, in the
-- order of its partition) keys it: message_key = <topic>|<partition>|<offset>, as the warehouse
-- computes it for the other cleaned tables (docs/contract.md 1.1; the clean topic carries no
-- other copy of the offset).
CREATE TEMPORARY VIEW heartbeat_fields AS
SELECT
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    message.source_offset AS message_position,
    parsed.reason AS parse_reason, parsed.bid, parsed.room_id, parsed.uid, parsed.terminal, parsed.kind, parsed.server_time
FROM room_heartbeat AS message,
    LATERAL TABLE(parse_message(message.payload, '
        bid          BIGINT  bid          NOT NULL,
        room_id      STRING  room_id      NOT NULL,
        uid          BIGINT  uid          NOT NULL,
        terminal     STRING  terminal     NOT NULL,
        kind         STRING  kind         NOT NULL,
        server_time  BIGINT  server_time  NOT NULL
    ')) AS parsed;

-- Rules beyond the parse (section 0: an enum outside its list or a number outside its range is
-- wrong_type): integers have at most 18 digits, terminal is not empty, kind is enter|beat|leave.
CREATE TEMPORARY VIEW heartbeat_verdicts AS
SELECT
    *,
    COALESCE(parse_reason, CASE
        WHEN bid NOT BETWEEN -999999999999999999 AND 999999999999999999
            OR uid NOT BETWEEN -999999999999999999 AND 999999999999999999
            OR server_time NOT BETWEEN -999999999999999999 AND 999999999999999999
            OR terminal = ''
            OR kind NOT IN ('enter', 'beat', 'leave')
            THEN 'wrong_type'
    END) AS reason
FROM heartbeat_fields;

INSERT INTO room_heartbeat_clean
SELECT
    CONCAT(REPLACE(source_split, '/', '|'), '|', CAST(message_position AS STRING)),
    source_split,
    bid,
    room_id,
    uid,
    terminal,
    kind,
    server_time,
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
    COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
    MIN(source_offset) AS first_offset
FROM heartbeat_verdicts
GROUP BY source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
INSERT INTO topic_accounting
SELECT topic, source_split, first_offset, messages_read, accepted, rejected, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE heartbeat_split_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
