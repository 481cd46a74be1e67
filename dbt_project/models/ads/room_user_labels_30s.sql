-- Problem labels per room, user and 30-second window of client_time, offline and complete (late
-- messages included). Grain: room x user x window with >= 1 message.
-- Rules: LIVE_CLASSROOM_CONTRACT.md A.3 (the same rules as Flink job mart_room_user_labels_30s);
-- dimension columns from the published preheat at build time (C), never copied from rt.
{{ config(order_by='(room_id, start_time, user_id)') }}

with messages as (
    select
        room_id, user_id, role, client_time, server_time, source_split,
        ifNull(source_offset, 0) as source_offset, 0 as topic_rank,
        action = 'enter' and result = 'success' as is_presence,
        action = 'leave' as is_leave,
        action = 'enter' as is_enter_attempt,
        action = 'enter' and result = 'fail' as is_enter_fail,
        action = 'enter' and result = 'success' as is_enter_success,
        action = 'enter' and result = 'success' and client_time - started_at > 10000
            as is_enter_slow,
        ifNull(failed_component, '') as failed_component,
        '' as media, 0 as interval_ms, 0 as freeze_ms, false as is_silent, 0 as loss_pct,
        0 as rtt_ms, false as is_device_abnormal, false as is_load_fail, false as is_load_ok,
        false as is_out_of_sync, false as is_draw_fail
    from {{ source('ods', 'classroom_enter_clean') }}
    union all
    -- the later branches take the first one's column names by position
    -- noqa: disable=AL03
    select
        room_id, user_id, role, client_time, server_time, source_split,
        ifNull(source_offset, 0), 1,
        true, false, false, false, false, false, '',
        media, interval_ms, freeze_ms, bitrate_kbps = 0, loss_pct, rtt_ms,
        false, false, false, false, false
    from {{ source('ods', 'classroom_av_sample_clean') }}
    union all
    select
        room_id, user_id, role, client_time, server_time, source_split,
        ifNull(source_offset, 0), 2,
        true, false, false, false, false, false, '',
        '', 0, 0, false, 0, 0,
        mic != 'ok' or speaker != 'ok' or camera != 'ok' or cpu_pct >= 90,
        false, false, false, false
    from {{ source('ods', 'classroom_device_sample_clean') }}
    union all
    select
        room_id, user_id, role, client_time, server_time, source_split,
        ifNull(source_offset, 0), 3,
        false, false, false, false, false, false, '',
        '', 0, 0, false, 0, 0,
        false,
        action = 'load' and result = 'fail',
        action = 'load' and result = 'ok',
        origin = 'peer' and action != 'load' and (result = 'fail' or ifNull(lag_ms > 3000, false)),
        origin = 'self' and action in ('draw', 'drag') and result = 'fail'
    from {{ source('ods', 'classroom_courseware_event_clean') }}
    -- noqa: enable=AL03
),

-- "latest": client_time, server_time, topic (A.1 order), place in the topic
keyed as (
    select
        *,
        intDiv(client_time, 30000) * 30000 as start_time,
        (client_time, server_time, topic_rank, source_split, source_offset) as order_key
    from messages
),

users as (
    select
        start_time,
        room_id,
        user_id,
        argMax(role, order_key) as role,
        count() as messages,
        toUInt8(
            countIf(is_presence) > 0
            and (
                countIf(is_leave) = 0
                or maxIf(order_key, is_presence) > maxIf(order_key, is_leave)
            )
        ) as in_room,
        countIf(is_enter_attempt) as enter_attempts,
        toUInt8(countIf(is_enter_fail) > 0 and countIf(is_enter_success) = 0) as enter_fail,
        toUInt8(countIf(is_enter_slow) > 0) as enter_slow,
        if(countIf(is_enter_fail) > 0, argMaxIf(failed_component, order_key, is_enter_fail), '')
            as enter_fail_component,
        -- >= 20 % frozen, in integers
        toUInt8(
            countIf(media = 'audio') > 0
            and 5 * sumIf(freeze_ms, media = 'audio') >= sumIf(interval_ms, media = 'audio'))
            as audio_stall,
        toUInt8(
            countIf(media = 'video') > 0
            and 5 * sumIf(freeze_ms, media = 'video') >= sumIf(interval_ms, media = 'video'))
            as video_stall,
        toUInt8(countIf(media = 'audio') > 0 and countIf(media = 'audio' and not is_silent) = 0)
            as cannot_hear,
        toUInt8(countIf(media = 'video') > 0 and countIf(media = 'video' and not is_silent) = 0)
            as cannot_see,
        multiIf(
            countIf(media != '') = 0, 'none',
            sum(loss_pct) >= 10 * countIf(media != '')
            or sum(rtt_ms) >= 600 * countIf(media != ''), 'bad',
            sum(loss_pct) >= 3 * countIf(media != '')
            or sum(rtt_ms) >= 300 * countIf(media != ''), 'poor',
            'good'
        ) as net_quality,
        toUInt8(countIf(is_device_abnormal) > 0) as device_abnormal,
        toUInt8(
            countIf(is_load_fail) > 0
            and (
                countIf(is_load_ok) = 0
                or maxIf(order_key, is_load_fail) > maxIf(order_key, is_load_ok)
            )
        )
            as courseware_load_fail,
        toUInt8(countIf(is_out_of_sync) > 0) as courseware_out_of_sync,
        toUInt8(countIf(is_draw_fail) > 0) as cannot_draw
    from keyed
    group by start_time, room_id, user_id
),

rooms as (
    select
        start_time,
        room_id,
        max(role = 'teacher' and in_room = 1) as teacher_in_room,
        max(role = 'student' and in_room = 1) as student_in_room,
        max(role = 'fm' and in_room = 1) as fm_in_room
    from users
    group by start_time, room_id
),

labelled as (
    select
        users.*,
        toUInt8(multiIf(
            users.role = 'teacher', rooms.student_in_room, users.role = 'student', rooms.teacher_in_room, 0
        )) as peer_in_room,
        toUInt8(rooms.fm_in_room) as fm_in_room
    from users
    inner join rooms on users.start_time = rooms.start_time and users.room_id = rooms.room_id
),

label_rows as (
    select
        start_time,
        start_time + 30000 as end_time,
        room_id, user_id, role, messages, in_room, enter_attempts, enter_fail, enter_slow,
        enter_fail_component, audio_stall, video_stall, cannot_hear, cannot_see, net_quality,
        device_abnormal, courseware_load_fail, courseware_out_of_sync, cannot_draw, peer_in_room,
        fm_in_room,
        -- A.3's order of problem labels
        arrayFilter(label -> label != '', [
            if(in_room = 0, 'not_in_room', ''),
            if(enter_fail = 1, 'enter_fail', ''),
            if(enter_slow = 1, 'enter_slow', ''),
            if(role != 'fm' and peer_in_room = 0, 'peer_absent', ''),
            if(audio_stall = 1, 'audio_stall', ''),
            if(video_stall = 1, 'video_stall', ''),
            if(cannot_hear = 1, 'cannot_hear', ''),
            if(cannot_see = 1, 'cannot_see', ''),
            if(net_quality = 'bad', 'net_bad', ''),
            if(net_quality = 'poor', 'net_poor', ''),
            if(device_abnormal = 1, 'device_abnormal', ''),
            if(courseware_load_fail = 1, 'courseware_load_fail', ''),
            if(courseware_out_of_sync = 1, 'courseware_out_of_sync', ''),
            if(cannot_draw = 1, 'cannot_draw', '')
        ]) as problem_labels
    from labelled
)

{{ with_dimension('label_rows', 'start_time') }}
