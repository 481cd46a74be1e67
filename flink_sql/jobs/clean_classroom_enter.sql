-- Cleans room enter/leave attempts (classroom_enter) into classroom_enter_clean. Grain: one row
-- per valid message; rejected messages go to rejected_messages, counts to topic_accounting.
-- Rules: LIVE_CLASSROOM_CONTRACT.md 0 and A.1 (seed 000's "enter" stream).

-- The checks of a classroom message and its clean row (flink_sql/templates/
-- classroom_message_checked.sql): the envelope every topic shares, then its own columns, fields
-- and rules.
apply template classroom_message_checked (
    view = 'enter_checked', source = 'classroom_enter',
    columns = 'enter_action, enter_result, started_at, failed_component',
    parse = '
        enter_action          STRING   action            NOT NULL,
        enter_result          STRING   result,
        has_result            PRESENT  result,
        started_at            BIGINT   started_at,
        has_started_at        PRESENT  started_at,
        failed_component      STRING   failed_component,
        has_failed_component  PRESENT  failed_component',
    checks = $$
        parsed.enter_action in ('enter', 'leave')
        -- optional fields present and not null are checked like required ones
        and coalesce(parsed.enter_result in ('success', 'fail'), true)
        and coalesce(parsed.started_at between -999999999999999999 and 999999999999999999, true)
        and coalesce(
            parsed.failed_component in ('sdk', 'gateway', 'media', 'message', 'courseware'), true)
    $$,
    missing = $$
        -- result and started_at when action is enter, failed_component when result is fail
        (parsed.enter_action = 'enter' and not (parsed.has_result and parsed.has_started_at))
        or (parsed.enter_result = 'fail' and not parsed.has_failed_component)
    $$
);

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'classroom_enter', checked = 'enter_checked');
