-- topic: mart_accounting
-- grain: one row per real-time mart and job run (upsert log; the greatest events_in is current; runs add up)
CREATE TABLE IF NOT EXISTS ods.mart_accounting_log
(
    mart LowCardinality(String),
    counting_since DateTime64(3, 'UTC') COMMENT 'when the job run began counting (kept in its state): runs add up',
    events_in Int64,
    events_counted Int64,
    events_late Int64,
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_topic LowCardinality(String) DEFAULT '' COMMENT 'provenance: the Kafka topic landed from (empty for files)',
    kafka_partition Int32 DEFAULT -1 COMMENT 'provenance: its partition (-1 for files)',
    kafka_offset Int64 DEFAULT -1 COMMENT 'provenance: its offset (-1 for files); landing dedups by the three'
)
ENGINE = ReplacingMergeTree(events_in)
ORDER BY (mart, counting_since)
SETTINGS non_replicated_deduplication_window = 10000
