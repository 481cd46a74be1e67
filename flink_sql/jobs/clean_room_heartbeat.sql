-- Cleans room heartbeats (room_heartbeat) into the flat topic room_heartbeat_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0 and B.1 (seed 002).

-- The checks of a room message and its clean row (flink_sql/templates/room_message_checked.sql),
-- then its own field and rule: kind is enter|beat|leave.
apply template room_message_checked (
    view = 'heartbeat', source = 'room_heartbeat',
    fields = 'parsed.kind',
    parse = '
        kind         STRING  kind         NOT NULL',
    checks = $$
        or kind not in ('enter', 'beat', 'leave')
    $$,
    columns = 'kind, server_time'
);

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'room_heartbeat', checked = 'heartbeat_verdicts');
