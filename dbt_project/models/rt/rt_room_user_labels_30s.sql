-- Real-time problem labels per room, user and 30 s window, one row per key (re-deliveries
-- resolved). Grain and columns as ads.room_user_labels_30s; may miss late events.
{{ config(alias='room_user_labels_30s') }}

select
    start_time, end_time, room_id, user_id, role, messages, in_room, enter_attempts, enter_fail,
    enter_slow, enter_fail_component, audio_stall, video_stall, cannot_hear, cannot_see,
    net_quality, device_abnormal, courseware_load_fail, courseware_out_of_sync, cannot_draw,
    peer_in_room, fm_in_room, problem_labels,
    lesson_id, lesson_date, room_role, expected_members, tutor_id, class_id, org_node_id, dim_run_id, dim_status
from {{ source('rt', 'room_user_labels_30s_log') }} final
