-- Dead letters: every rejected source message with its raw payload and the reason.
-- role: output
CREATE TABLE rejected_messages (
    topic         STRING,
    payload       STRING,  -- the raw message text
    reason        STRING,  -- malformed_json | missing_field | wrong_type | future_timestamp
    source_split  STRING,
    source_offset BIGINT,  -- Kafka offset; NULL for files
    ingested_at   TIMESTAMP_LTZ(3),
    processed_at  TIMESTAMP_LTZ(3)
);
