-- Cleans client push reports (room_push_ack) into the flat topic room_push_ack_clean.
-- Grain: one row per valid message; rejected messages go to rejected_messages, counts to
-- topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0 and B.1 (seed 002).

-- The checks of a room message and its clean row (flink_sql/templates/room_message_checked.sql),
-- then its own fields and rules (B.1): missing_msgids not an array of integers or numeric
-- strings is wrong_type; max_msgid is not negative, missing_msgids are distinct and each
-- 1 <= x < max_msgid. The clean row keeps the message's position in its split (message_seq).
apply template room_message_checked (
    view = 'push_ack', source = 'room_push_ack',
    fields = 'parsed.max_msgid, parsed.missing_ids',
    parse = '
        max_msgid    BIGINT        max_msgid       NOT NULL,
        missing_ids  BIGINT_ARRAY  missing_msgids  NOT NULL',
    checks = $$
        or max_msgid not between 0 and 999999999999999999
        or coalesce(cardinality(array_distinct(missing_ids)) <> cardinality(missing_ids), TRUE)
        or coalesce(array_min(missing_ids), 1) < 1
        or coalesce(array_max(missing_ids) >= max_msgid, FALSE)
    $$,
    columns = 'server_time, max_msgid, missing_ids, cardinality(missing_ids), message_position'
);

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'room_push_ack', checked = 'push_ack_verdicts');
