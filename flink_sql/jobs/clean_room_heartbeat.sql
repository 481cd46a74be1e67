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

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'room_heartbeat', checked = 'heartbeat_verdicts');
