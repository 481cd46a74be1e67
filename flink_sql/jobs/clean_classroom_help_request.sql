-- Cleans help-button presses (classroom_help_request) into classroom_help_request_clean.
-- Grain: one row per valid message, redeliveries included (the triage job keeps the first);
-- rejected messages go to rejected_messages, counts to topic_accounting. Rules: contract 0, A.1.

-- The checks of a classroom message and its clean row (flink_sql/templates/
-- classroom_message_checked.sql): the envelope every topic shares, then its own columns, fields
-- and rules.
apply template classroom_message_checked (
    view = 'help_checked', source = 'classroom_help_request',
    columns = 'request_id',
    parse = '
        request_id   STRING   request_id   NOT NULL',
    checks = $$char_length(parsed.request_id) > 0$$
);

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'classroom_help_request', checked = 'help_checked');
