-- Per source split: messages read, accepted, rejected (upsert log; the row with the greatest
-- messages_read per key is current).
CREATE TABLE topic_accounting (
    topic         STRING,
    source_split  STRING,
    messages_read BIGINT,
    accepted      BIGINT,
    rejected      BIGINT,
    processed_at  TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'filesystem',
    'path' = '${TOPICS_DIR}/topic_accounting',
    'format' = 'json'
);
