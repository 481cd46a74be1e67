-- Cleans client push reports (room_push_ack) into the flat topic room_push_ack_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0 and B.1 (seed 002).

-- One parse per message (parse_message, jvm/udf/README.md): malformed_json, then missing_field
-- (a required field absent or null), then wrong_type (an object or array where a scalar belongs,
-- a non-integer number; missing_msgids not an array of integers or numeric strings).
-- The message's Kafka offset (message_position, in the order of its partition) keys it:
-- message_key = <topic>|<partition>|<offset>, as the warehouse computes it for the other cleaned
-- tables (docs/contract.md 1.1; the clean topic carries no other copy of the offset).
create temporary view push_ack_fields as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    message.source_offset as message_position,
    parsed.reason as parse_reason, parsed.bid, parsed.room_id, parsed.uid, parsed.terminal, parsed.server_time, parsed.max_msgid,
    parsed.missing_ids
from room_push_ack as message,
    lateral table(parse_message(message.payload, '
        bid          BIGINT        bid             NOT NULL,
        room_id      STRING        room_id         NOT NULL,
        uid          BIGINT        uid             NOT NULL,
        terminal     STRING        terminal        NOT NULL,
        server_time  BIGINT        server_time     NOT NULL,
        max_msgid    BIGINT        max_msgid       NOT NULL,
        missing_ids  BIGINT_ARRAY  missing_msgids  NOT NULL
    ')) as parsed;

-- Rules beyond the parse (B.1; section 0: a number outside its range is wrong_type): integers
-- have at most 18 digits, max_msgid is not negative, terminal is not empty, missing_msgids are
-- distinct and each 1 <= x < max_msgid.
create temporary view push_ack_verdicts as
select
    *,
    coalesce(parse_reason, case
        when bid not between -999999999999999999 and 999999999999999999
            or uid not between -999999999999999999 and 999999999999999999
            or server_time not between -999999999999999999 and 999999999999999999
            or max_msgid not between 0 and 999999999999999999
            or terminal = ''
            or coalesce(cardinality(array_distinct(missing_ids)) <> cardinality(missing_ids), TRUE)
            or coalesce(array_min(missing_ids), 1) < 1
            or coalesce(array_max(missing_ids) >= max_msgid, FALSE)
            then 'wrong_type'
    end) as reason
from push_ack_fields;

insert into room_push_ack_clean
select
    concat(replace(source_split, '/', '|'), '|', cast(message_position as string)),
    source_split,
    bid,
    room_id,
    uid,
    terminal,
    server_time,
    max_msgid,
    missing_ids,
    cardinality(missing_ids),
    message_position,
    ingested_at,
    processed_at
from push_ack_verdicts
where reason is NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'room_push_ack', checked = 'push_ack_verdicts');
