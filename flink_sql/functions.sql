-- Functions the jobs call, registered by every Flink session before any job (see
-- src/classpulse/flink/functions.py). Java classes come from jvm/udf, built from source by
-- `make udf` and shipped with every job in pipeline.jars.

-- parse_message(payload, spec): reads one message once; one row of `reason` plus the typed fields
-- the spec literal names ('name TYPE path [NOT NULL], ...'). See jvm/udf ParseMessage.java.
create temporary system function if not exists parse_message
    as 'io.classpulse.udf.ParseMessage' language JAVA;

-- max_overlap(from, to): the most half-open intervals holding one instant (room_concurrency_1min's
-- peak_online over the session pieces of a minute). See jvm/udf MaxOverlap.java.
create temporary system function if not exists max_overlap
    as 'io.classpulse.udf.MaxOverlap' language JAVA;

-- presence_tracker(input => TABLE ... PARTITION BY (bid, room_id, bucket), on_time => ..., ...):
-- a process table function, the presence of each user of a bucket of a room
-- (room_presence_sessions and the per-minute pieces of room_concurrency_1min). See jvm/udf PresenceTracker.java.
create temporary system function if not exists presence_tracker
    as 'io.classpulse.udf.PresenceTracker' language JAVA;

-- latest_value(value, client_time, server_time, topic_rank, source_split, source_offset): the
-- value of the latest message of a group, "latest" as in LIVE_CLASSROOM_CONTRACT.md A.3
-- (room_user_labels_30s). See jvm/udf Latest.java.
create temporary system function if not exists latest_value
    as 'io.classpulse.udf.Latest' language JAVA;
