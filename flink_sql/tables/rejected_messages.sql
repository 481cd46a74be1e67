-- Dead letters: every rejected source message with its raw payload and the reason.
-- role: output
create table rejected_messages (
    topic string,
    payload string,  -- the raw message text
    reason string,  -- malformed_json | missing_field | wrong_type | future_timestamp
    source_split string,
    source_offset bigint,  -- Kafka offset; NULL for files
    ingested_at timestamp_ltz(3),
    processed_at timestamp_ltz(3)
);
