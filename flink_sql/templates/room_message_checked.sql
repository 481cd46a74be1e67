-- The checks of a room message (LIVE_CLASSROOM_CONTRACT.md 0 and B.1) and its valid rows to the
-- topic's clean table. One parse per message (parse_message, jvm/udf/README.md): malformed_json,
-- then missing_field (a required field absent or null), then wrong_type (an object or array where
-- a scalar belongs, a non-integer number); then the rules beyond the parse (section 0: an enum
-- outside its list or a number outside its range is wrong_type): integers have at most 18 digits,
-- terminal is not empty, and the topic's own rules. The message's Kafka offset (message_position,
-- in the order of its partition) keys it: message_key = <topic>|<partition>|<offset>, as the
-- warehouse computes it for the other cleaned tables (docs/contract.md 1.1; the clean topic
-- carries no other copy of the offset).
-- Arguments: view, the prefix of the views it creates (<view>_fields, <view>_verdicts); source,
-- the topic's table; fields, the message's own parsed columns (parsed.<field>); parse, their
-- parse_message fields; checks, the topic's own rules (each an `or` condition); columns, what the
-- clean table takes after terminal.
create temporary view {view}_fields as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at, message.processed_at,
    message.source_offset as message_position,
    parsed.reason as parse_reason, parsed.bid, parsed.room_id, parsed.uid, parsed.terminal, parsed.server_time,
    {fields}
from {source} as message,
    lateral table(parse_message(message.payload, '
        bid          BIGINT  bid          NOT NULL,
        room_id      STRING  room_id      NOT NULL,
        uid          BIGINT  uid          NOT NULL,
        terminal     STRING  terminal     NOT NULL,
        server_time  BIGINT  server_time  NOT NULL,{parse}
    ')) as parsed;

create temporary view {view}_verdicts as
select
    *,
    coalesce(parse_reason, case
        when bid not between -999999999999999999 and 999999999999999999
            or uid not between -999999999999999999 and 999999999999999999
            or server_time not between -999999999999999999 and 999999999999999999
            or terminal = ''
            {checks}
            then 'wrong_type'
    end) as reason
from {view}_fields;

insert into {source}_clean
select
    concat(replace(source_split, '/', '|'), '|', cast(message_position as string)),
    source_split,
    bid,
    room_id,
    uid,
    terminal,
    {columns},
    ingested_at,
    processed_at
from {view}_verdicts
where reason is null;
