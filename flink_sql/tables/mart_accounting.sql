-- Per real-time mart and run: events in, counted by the windows, routed to late_events (upsert log
-- keyed by (mart, counting_since); greatest events_in is current; runs add up).
-- role: output
create table mart_accounting (
    mart string,
    counting_since timestamp_ltz(3),
    events_in bigint,
    events_counted bigint,
    events_late bigint,
    processed_at timestamp_ltz(3)
);
