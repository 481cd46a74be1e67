-- Per source split and run: messages read, accepted, rejected (upsert log; the row with the
-- greatest messages_read per (topic, source_split, first_offset) is current; runs add up).
-- role: output
CREATE TABLE topic_accounting (
    topic         STRING,
    source_split  STRING,
    first_offset  BIGINT,
    messages_read BIGINT,
    accepted      BIGINT,
    rejected      BIGINT,
    processed_at  TIMESTAMP_LTZ(3)
);
