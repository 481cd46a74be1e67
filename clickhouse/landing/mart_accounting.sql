-- topic: mart_accounting
-- grain: one row per real-time mart and job run (upsert log; the greatest events_in is current; runs add up)
create table if not exists ods.mart_accounting_log
(
    mart LowCardinality(String),
    counting_since DateTime64(3, 'UTC') comment 'when the job run began counting (kept in its state): runs add up',
    events_in Int64,
    events_counted Int64,
    events_late Int64,
    -- include: landed, kafka_provenance
)
engine = ReplacingMergeTree(events_in)
order BY (mart, counting_since)
-- include: deduplicated_inserts
