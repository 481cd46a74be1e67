-- The checks of a live-classroom message, in the contract's order (LIVE_CLASSROOM_CONTRACT.md 0).
-- One parse per message (parse_message, jvm/udf/README.md): malformed_json; missing_field, a
-- required field absent or null (or, where `missing` says so, a conditional one: the PRESENT
-- columns and the values that converted survive a wrong type, so a conditional missing field
-- outranks it); wrong_type, from the parse (an object or array where a scalar belongs, a
-- non-integer number, a room id outside unsigned 64 bits) or from the rules beyond it (an enum
-- outside its list, case-sensitive, or a number outside its range: integers have at most 18
-- digits); then future_timestamp (client_time > server_time + 5 min). Valid messages go to the
-- topic's clean table with the envelope every classroom topic shares.
-- Arguments: view, the checked view to create; source, the topic's table; columns, the message's
-- own columns; parse, their parse_message fields; checks, the rules on them (parsed.<field>);
-- missing, when a conditional field is missing (default: never).
create temporary view {view} as
select
    message.payload, message.source_split, message.source_offset, message.ingested_at,
    message.processed_at,
    parsed.room_id, parsed.user_id, parsed.role, parsed.client_time, parsed.server_time,
    {columns},
    case
        when parsed.reason in ('malformed_json', 'missing_field') then parsed.reason
        when ({missing:false}) then 'missing_field'
        when parsed.reason is not null then parsed.reason
        when not (
            parsed.user_id between -999999999999999999 and 999999999999999999
                and parsed.role in ('teacher', 'student', 'fm')
                and parsed.client_time between -999999999999999999 and 999999999999999999
                and parsed.server_time between -999999999999999999 and 999999999999999999
                and ({checks}))
            then 'wrong_type'
        when parsed.client_time > parsed.server_time + 300000 then 'future_timestamp'
    end as reason
from {source} as message,
    lateral table(parse_message(message.payload, '
        room_id      UBIGINT  room_id      NOT NULL,
        user_id      BIGINT   user_id      NOT NULL,
        role         STRING   role         NOT NULL,
        client_time  BIGINT   client_time  NOT NULL,
        server_time  BIGINT   server_time  NOT NULL,{parse}
    ')) as parsed;

insert into {source}_clean
select
    source_split, source_offset,
    room_id, user_id, role, client_time, server_time,
    {columns},
    ingested_at, processed_at
from {view}
where reason is null;
