-- topic: lesson_policy
-- grain: one row per policy version; the latest update_time per policy_id wins
-- Policies bind a lesson to its live-room business flow, stream, organisation tree, rooms
-- and preheat depth (seed: lessonPolicy = bizType + streamPolicy + orgPolicy).
create table if not exists ods.lesson_policy
(
    policy_id UInt32,
    policy_name String,
    biz_type LowCardinality(String),      -- three_screen | group | small_class | study_room
    stream_policy LowCardinality(String), -- rtmp | rtc
    org_policy LowCardinality(String),    -- flat | tutor_team_group | tutor_small_class | lpc_wechat_group | lpc
    room_policy LowCardinality(String),   -- main_only | tutor_on_camera (3n+1 rooms)
    preheat_mode LowCardinality(String),  -- minimal | simple | full
    group_size UInt16,
    team_size UInt16,
    tutor_capacity UInt16,
    update_time DateTime64(3, 'UTC'),
    -- include: kafka_provenance
)
engine = ReplacingMergeTree(update_time)
order by policy_id
-- include: deduplicated_inserts
