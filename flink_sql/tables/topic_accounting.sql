-- Per source split and run: messages read, accepted, rejected (upsert log; the row with the
-- greatest messages_read per (topic, source_split, first_offset) is current; runs add up).
-- role: output
create table topic_accounting (
    topic string,
    source_split string,
    first_offset bigint,
    messages_read bigint,
    accepted bigint,
    rejected bigint,
    processed_at timestamp_ltz(3)
);
