-- Cleans room heartbeats (room_heartbeat) into the flat topic room_heartbeat_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0 and B.1 (seed 002).

-- One parse per message (parse_message, jvm/udf/README.md): malformed_json, then missing_field
-- (a required field absent or null), then wrong_type (an object or array where a scalar belongs,
-- a non-integer bid, uid or server_time). The message's Kafka offset (message_position, in the
-- order of its partition) keys it: message_key = <topic>|<partition>|<offset>, as the warehouse
-- computes it for the other cleaned tables (docs/contract.md 1.1; the clean topic carries no
-- other copy of the offset).
create temporary view heartbeat_fields as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    message.source_offset as message_position,
    parsed.reason as parse_reason, parsed.bid, parsed.room_id, parsed.uid, parsed.terminal, parsed.kind, parsed.server_time
from room_heartbeat as message,
    lateral table(parse_message(message.payload, '
        bid          BIGINT  bid          NOT NULL,
        room_id      STRING  room_id      NOT NULL,
        uid          BIGINT  uid          NOT NULL,
        terminal     STRING  terminal     NOT NULL,
        kind         STRING  kind         NOT NULL,
        server_time  BIGINT  server_time  NOT NULL
    ')) as parsed;

-- Rules beyond the parse (section 0: an enum outside its list or a number outside its range is
-- wrong_type): integers have at most 18 digits, terminal is not empty, kind is enter|beat|leave.
create temporary view heartbeat_verdicts as
select
    *,
    coalesce(parse_reason, case
        when bid not between -999999999999999999 and 999999999999999999
            or uid not between -999999999999999999 and 999999999999999999
            or server_time not between -999999999999999999 and 999999999999999999
            or terminal = ''
            or kind not in ('enter', 'beat', 'leave')
            then 'wrong_type'
    end) as reason
from heartbeat_fields;

insert into room_heartbeat_clean
select
    concat(replace(source_split, '/', '|'), '|', cast(message_position as string)),
    source_split,
    bid,
    room_id,
    uid,
    terminal,
    kind,
    server_time,
    ingested_at,
    processed_at
from heartbeat_verdicts
where reason is NULL;

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'room_heartbeat', checked = 'heartbeat_verdicts');
