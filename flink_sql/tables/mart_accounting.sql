-- Per real-time mart and run: events in, counted by the windows, routed to late_events (upsert log
-- keyed by (mart, counting_since); greatest events_in is current; runs add up).
-- role: output
CREATE TABLE mart_accounting (
    mart           STRING,
    counting_since TIMESTAMP_LTZ(3),
    events_in      BIGINT,
    events_counted BIGINT,
    events_late    BIGINT,
    processed_at   TIMESTAMP_LTZ(3)
);
