-- Per real-time mart: events in, counted by the windows, routed to late_events (upsert log keyed by
-- mart; greatest events_in is current).
CREATE TABLE mart_accounting (
    mart           STRING,
    events_in      BIGINT,
    events_counted BIGINT,
    events_late    BIGINT,
    processed_at   TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'filesystem',
    'path' = '${TOPICS_DIR}/mart_accounting',
    'format' = 'json'
);
