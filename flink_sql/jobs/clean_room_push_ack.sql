-- Cleans client push reports (room_push_ack) into the flat topic room_push_ack_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0 and B.1 (seed 002).

-- One parse per message (parse_message, jvm/udf/README.md): malformed_json, then missing_field
-- (a required field absent or null), then wrong_type (an object or array where a scalar belongs,
-- a non-integer number; missing_msgids not an array of integers or numeric strings).
-- The message's Kafka offset (message_position, in the order of its partition) keys it:
-- message_key = <topic>|<partition>|<offset>, as the warehouse computes it for the other cleaned
-- tables (docs/contract.md 1.1; the clean topic carries no other copy of the offset).
CREATE TEMPORARY VIEW push_ack_fields AS
SELECT
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    message.source_offset AS message_position,
    parsed.reason AS parse_reason, parsed.bid, parsed.room_id, parsed.uid, parsed.terminal, parsed.server_time, parsed.max_msgid,
    parsed.missing_ids
FROM room_push_ack AS message,
    LATERAL TABLE(parse_message(message.payload, '
        bid          BIGINT        bid             NOT NULL,
        room_id      STRING        room_id         NOT NULL,
        uid          BIGINT        uid             NOT NULL,
        terminal     STRING        terminal        NOT NULL,
        server_time  BIGINT        server_time     NOT NULL,
        max_msgid    BIGINT        max_msgid       NOT NULL,
        missing_ids  BIGINT_ARRAY  missing_msgids  NOT NULL
    ')) AS parsed;

-- Rules beyond the parse (B.1; section 0: a number outside its range is wrong_type): integers
-- have at most 18 digits, max_msgid is not negative, terminal is not empty, missing_msgids are
-- distinct and each 1 <= x < max_msgid.
CREATE TEMPORARY VIEW push_ack_verdicts AS
SELECT
    *,
    COALESCE(parse_reason, CASE
        WHEN bid NOT BETWEEN -999999999999999999 AND 999999999999999999
            OR uid NOT BETWEEN -999999999999999999 AND 999999999999999999
            OR server_time NOT BETWEEN -999999999999999999 AND 999999999999999999
            OR max_msgid NOT BETWEEN 0 AND 999999999999999999
            OR terminal = ''
            OR COALESCE(CARDINALITY(ARRAY_DISTINCT(missing_ids)) <> CARDINALITY(missing_ids), TRUE)
            OR COALESCE(ARRAY_MIN(missing_ids), 1) < 1
            OR COALESCE(ARRAY_MAX(missing_ids) >= max_msgid, FALSE)
            THEN 'wrong_type'
    END) AS reason
FROM push_ack_fields;

INSERT INTO room_push_ack_clean
SELECT
    CONCAT(REPLACE(source_split, '/', '|'), '|', CAST(message_position AS STRING)),
    source_split,
    bid,
    room_id,
    uid,
    terminal,
    server_time,
    max_msgid,
    missing_ids,
    CARDINALITY(missing_ids),
    message_position,
    ingested_at,
    processed_at
FROM push_ack_verdicts
WHERE reason IS NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'room_push_ack', checked = 'push_ack_verdicts');
