-- Cleans device samples (classroom_device_sample: microphone, speaker, camera, CPU) into
-- classroom_device_sample_clean. Grain: one row per valid sample; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1.

-- The checks of a classroom message and its clean row (flink_sql/templates/
-- classroom_message_checked.sql): the envelope every topic shares, then its own columns, fields
-- and rules.
apply template classroom_message_checked (
    view = 'device_checked', source = 'classroom_device_sample',
    columns = 'mic, speaker, camera, cpu_pct',
    parse = '
        mic          STRING   mic          NOT NULL,
        speaker      STRING   speaker      NOT NULL,
        camera       STRING   camera       NOT NULL,
        cpu_pct      BIGINT   cpu_pct      NOT NULL',
    checks = $$
        parsed.mic in ('ok', 'missing', 'denied', 'error')
        and parsed.speaker in ('ok', 'missing', 'denied', 'error')
        and parsed.camera in ('ok', 'missing', 'denied', 'error')
        and parsed.cpu_pct between 0 and 100
    $$
);

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (
    topic = 'classroom_device_sample', checked = 'device_checked'
);
