-- Columns and clauses the landing tables share, written once. A table file puts a group's
-- lines where it says `-- include: <group>[, <group>]` (classpulse.loader.compose); a group may
-- include another. Each column ends with a comma: ClickHouse takes one after the last column
-- too. message_key is the loader's own group, built from its one definition
-- (classpulse.loader.MESSAGE_KEY).

-- group: source_message
-- The source message a cleaned row came from (the cleaning job carries the offset).
source_split String,
source_offset Nullable(Int64) comment 'Kafka offset; NULL for files',
-- include: message_key

-- group: classroom_message
-- What every classroom client message has (topics classroom_*): who, where and when.
-- include: source_message
room_id UInt64,
user_id Int64,
role LowCardinality(String),
client_time Int64 comment 'epoch ms, the event time',
server_time Int64 comment 'epoch ms, receive time',

-- group: cleaned
-- When a cleaned row's source message was read, when Flink processed it, when it landed.
ingested_at DateTime64(3, 'UTC'),
-- include: landed

-- group: classroom_message_storage
-- How the classroom message tables are stored (after their column list): by the client's
-- business day, sorted by room, user and client time.
engine = MergeTree
partition by toDate(intDiv(client_time, 1000), 'Asia/Shanghai')
order BY (room_id, user_id, client_time)
-- include: deduplicated_inserts

-- group: landed
-- When Flink processed the row and when it landed in ClickHouse.
processed_at DateTime64(3, 'UTC'),
landed_at DateTime64(3, 'UTC') default now64(3),

-- group: kafka_provenance
-- Where a row was landed from: the landing's dedup key and what the accounting by offsets
-- counts (classpulse.kafka.accounting).
kafka_topic LowCardinality(String) default '' comment 'provenance: the Kafka topic landed from (empty for files)',
kafka_partition Int32 default -1 comment 'provenance: its partition (-1 for files)',
kafka_offset Int64 default -1 comment 'provenance: its offset (-1 for files); landing dedups by the three',

-- group: room_dimensions
-- The live-classroom marts' dimension columns (LIVE_CLASSROOM_CONTRACT.md C), from the stream
-- lookup of the published lesson preheat.
lesson_id UInt64 comment 'dimension columns (LIVE_CLASSROOM_CONTRACT.md C), from the stream lookup',
lesson_date Date,
room_role LowCardinality(String),
expected_members UInt64,
tutor_id UInt64,
class_id UInt64,
org_node_id UInt64,
dim_run_id UInt64,
dim_status LowCardinality(String) comment 'ok | room_unknown | member_unknown | lookup_timeout',

-- group: rt_retention
-- A real-time mart keeps 30 days; retention counts from landing, so replaying an old day keeps it.
ttl toDateTime(landed_at) + interval 30 day

-- group: deduplicated_inserts
-- Every landing table: a retried insert (same block, same deduplication token) lands once.
settings non_replicated_deduplication_window = 10000
