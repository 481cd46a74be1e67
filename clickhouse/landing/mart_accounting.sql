-- topic: mart_accounting
-- grain: one row per real-time mart and job run (upsert log; the greatest events_in is current; runs add up)
CREATE TABLE IF NOT EXISTS ods.mart_accounting_log
(
    mart LowCardinality(String),
    counting_since DateTime64(3, 'UTC') COMMENT 'when the job run began counting (kept in its state): runs add up',
    events_in Int64,
    events_counted Int64,
    events_late Int64,
    -- include: landed, kafka_provenance
)
ENGINE = ReplacingMergeTree(events_in)
ORDER BY (mart, counting_since)
-- include: deduplicated_inserts
