-- Per real-time mart and run: events in, counted by the windows, routed to late_events (upsert log
-- keyed by (mart, counting_since); greatest events_in is current; runs add up).
CREATE TABLE mart_accounting (
    mart           STRING,
    counting_since TIMESTAMP_LTZ(3),
    events_in      BIGINT,
    events_counted BIGINT,
    events_late    BIGINT,
    processed_at   TIMESTAMP_LTZ(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'mart_accounting',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP_SERVERS}',
    'properties.linger.ms' = '${KAFKA_PRODUCER_LINGER_MS}',
    'properties.batch.size' = '${KAFKA_PRODUCER_BATCH_BYTES}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    -- above checkpoint interval + restart: a killed job's open transaction is aborted on
    -- restore, or by the broker after this timeout (readers are read_committed)
    'properties.transaction.timeout.ms' = '${KAFKA_TRANSACTION_TIMEOUT_MS}',
    'sink.transactional-id-prefix' = '${KAFKA_TRANSACTIONAL_ID_PREFIX}-mart_accounting'
);
