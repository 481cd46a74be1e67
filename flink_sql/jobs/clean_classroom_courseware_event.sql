-- Cleans dynamic-courseware events (classroom_courseware_event) into
-- classroom_courseware_event_clean. Grain: one row per valid event; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1 ("dby").

-- The checks of a classroom message and its clean row (flink_sql/templates/
-- classroom_message_checked.sql): the envelope every topic shares, then its own columns, fields
-- and rules.
apply template classroom_message_checked (
    view = 'courseware_checked', source = 'classroom_courseware_event',
    columns = 'action, origin, result_code, lag_ms',
    parse = '
        action       STRING   action       NOT NULL,
        origin       STRING   origin       NOT NULL,
        result_code  STRING   result       NOT NULL,
        lag_ms       BIGINT   lag_ms',
    checks = $$
        parsed.action in ('load', 'page_turn', 'draw', 'drag')
        and parsed.origin in ('self', 'peer')
        and parsed.result_code in ('ok', 'fail')
        -- optional: checked when present and not null
        and (parsed.lag_ms is null or parsed.lag_ms between 0 and 999999999999999999)
    $$
);

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (
    topic = 'classroom_courseware_event', checked = 'courseware_checked'
);
