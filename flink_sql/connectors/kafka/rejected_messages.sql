-- Dead letters: every rejected source message with its raw payload and the reason.
CREATE TABLE rejected_messages (
    topic         STRING,
    payload       STRING,  -- the raw message text
    reason        STRING,  -- malformed_json | missing_field | wrong_type | future_timestamp
    source_split  STRING,
    source_offset BIGINT,  -- Kafka offset; NULL for files
    ingested_at   TIMESTAMP_LTZ(3),
    processed_at  TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'rejected_messages',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-rejected_messages'
);
