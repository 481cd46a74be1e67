-- topic: room_user_labels_30s
-- grain: one row per room x user x 30-second window with a message (LIVE_CLASSROOM_CONTRACT.md A.3); re-deliveries replace
create table if not exists rt.room_user_labels_30s_log
(
    start_time Int64 comment 'epoch ms',
    end_time Int64 comment 'epoch ms',
    room_id UInt64,
    user_id Int64,
    role LowCardinality(String),
    messages Int64,
    in_room UInt8,
    enter_attempts Int64,
    enter_fail UInt8,
    enter_slow UInt8,
    enter_fail_component LowCardinality(String),
    audio_stall UInt8,
    video_stall UInt8,
    cannot_hear UInt8,
    cannot_see UInt8,
    net_quality LowCardinality(String),
    device_abnormal UInt8,
    courseware_load_fail UInt8,
    courseware_out_of_sync UInt8,
    cannot_draw UInt8,
    peer_in_room UInt8,
    fm_in_room UInt8,
    problem_labels Array(LowCardinality(String)),
    -- include: room_dimensions, landed
)
engine = ReplacingMergeTree(processed_at)
partition by toDate(intDiv(start_time, 1000), 'Asia/Shanghai')
order BY (room_id, start_time, user_id)
-- include: deduplicated_inserts
