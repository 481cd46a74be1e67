-- Help triage offline and complete: one row per help request (first deliveries and merged
-- presses) and per detected ticket, from ads.room_user_labels_30s. Grain: request_id.
-- Rules: LIVE_CLASSROOM_CONTRACT.md A.4, A.5 (as Flink job mart_room_user_labels_30s); dimension
-- columns from the published preheat at build time (C); rule 4 calls the requester's tutor.
{{ config(order_by='request_id') }}

with labels as (
    select * from {{ ref('room_user_labels_30s') }}
),

-- per room, window and role: the smallest user on whom each peer-checked rule holds
role_flags as (
    select
        room_id, start_time, role,
        minIfOrNull(user_id, device_abnormal = 1) as device_user,
        minIfOrNull(user_id, net_quality = 'bad') as network_user,
        minIfOrNull(user_id, audio_stall + video_stall + cannot_hear + cannot_see > 0)
            as media_user,
        minIfOrNull(
            user_id, courseware_load_fail + courseware_out_of_sync + cannot_draw > 0
        ) as courseware_user
    from labels
    where role in ('teacher', 'student')
    group by room_id, start_time, role
),

-- the eight ordered rules on the user's row R and the other role's rows P
rules as (
    select
        *,
        multiIf(fires_1, 1, fires_2, 2, fires_3, 3, fires_4, 4, fires_5, 5, fires_6, 6,
            fires_7, 7, 8) as rule_no
    from (
        select
            r.room_id as room_id, r.user_id as user_id, r.role as role,
            r.end_time as end_ms, r.fm_in_room as fm_in_room,
            r.device_abnormal = 1 as fires_1,
            p.device_user is not null as fires_2,
            r.in_room = 0 or r.enter_fail = 1 as fires_3,
            r.peer_in_room = 0 and r.role != 'fm' as fires_4,
            r.net_quality = 'bad' or p.network_user is not null as fires_5,
            r.audio_stall + r.video_stall + r.cannot_hear + r.cannot_see > 0
            or p.media_user is not null as fires_6,
            r.courseware_load_fail + r.courseware_out_of_sync + r.cannot_draw > 0
            or p.courseware_user is not null as fires_7,
            p.device_user as peer_device_user,
            if(r.net_quality = 'bad', r.user_id, p.network_user) as network_user,
            if(r.audio_stall + r.video_stall + r.cannot_hear + r.cannot_see > 0,
                r.user_id, p.media_user) as media_user,
            if(r.courseware_load_fail + r.courseware_out_of_sync + r.cannot_draw > 0,
                r.user_id, p.courseware_user) as courseware_user
        from labels as r
        left join role_flags as p
            on p.room_id = r.room_id and p.start_time = r.start_time
            and p.role = multiIf(r.role = 'teacher', 'student', r.role = 'student', 'teacher', '')
    )
),

-- first delivery per request_id: least server_time, then place in the topic
primaries as (
    select
        request_id,
        first_delivery.1 as room_id, first_delivery.2 as user_id, first_delivery.3 as role,
        first_delivery.4 as request_time, first_delivery.5 as received_time,
        15000 * (intDiv(request_time, 15000) + 1) as decided_at,
        30000 * intDiv(decided_at, 30000) as evidence_end,
        30000 * intDiv(decided_at + 29999, 30000) as verify_start
    from (
        select
            request_id,
            argMin(
                (room_id, user_id, role, client_time, server_time),
                (server_time, source_split, ifNull(source_offset, 0))
            ) as first_delivery
        from {{ source('ods', 'classroom_help_request_clean') }}
        group by request_id
    )
),

-- pre-check 1: merged requests never open a window, so the opened ones are found in order
opened as (
    select
        room_id, user_id,
        arrayFold(
            (acc, t) -> if(length(acc) > 0 and t > acc[-1] and t - acc[-1] <= 60000,
                acc, arrayPushBack(acc, t)),
            arraySort(groupArray(request_time)),
            CAST([], 'Array(Int64)')
        ) as opened_times
    from primaries
    group by room_id, user_id
),

help as (
    select
        h.request_id as request_id, 'help' as source, h.room_id as room_id,
        h.user_id as user_id, h.role as role, h.request_time as request_time,
        h.received_time as received_time, h.decided_at as decided_at,
        h.evidence_end as evidence_end, h.verify_start as verify_start,
        multiIf(
            arrayExists(
                t -> t >= h.request_time - 60000 and t < h.request_time, o.opened_times
            ),
            0,
            h.received_time - h.request_time > 60000, -2,
            h.role = 'fm' or r.user_id is null, -3,
            r.fm_in_room = 1, -4,
            r.rule_no
        ) as decision,
        r.user_id as requester, r.peer_device_user as peer_device_user,
        r.network_user as network_user, r.media_user as media_user,
        r.courseware_user as courseware_user, w.user_id as verify_user,
        [w.fires_1, w.fires_2, w.fires_3, w.fires_4, w.fires_5, w.fires_6, w.fires_7]
            [r.rule_no] as still_fires
    from primaries as h
    inner join opened as o on o.room_id = h.room_id and o.user_id = h.user_id
    left join (select * replace (toNullable(user_id) as user_id) from rules) as r
        on r.room_id = h.room_id and r.user_id = h.user_id and r.end_ms = h.evidence_end
    left join (select * replace (toNullable(user_id) as user_id) from rules) as w
        on w.room_id = h.room_id and w.user_id = h.user_id and w.end_ms = h.verify_start + 30000
),

-- proactive detection: same first rule at e and e - 30 s, not e - 60 s, no supervisor, and no
-- help request of the room with its evidence at e or e - 30 s
detected as (
    select
        concat('det:', toString(x.room_id), ':', toString(x.user_id), ':', toString(x.end_ms))
            as request_id,
        'detected' as source, x.room_id as room_id, x.user_id as user_id, x.role as role,
        x.end_ms as request_time,
        x.end_ms as received_time, x.end_ms as decided_at, x.end_ms as evidence_end,
        x.end_ms as verify_start, x.rule_no as decision,
        x.user_id as requester, x.peer_device_user as peer_device_user,
        x.network_user as network_user, x.media_user as media_user,
        x.courseware_user as courseware_user, w.user_id as verify_user,
        [w.fires_1, w.fires_2, w.fires_3, w.fires_4, w.fires_5, w.fires_6, w.fires_7]
            [x.rule_no] as still_fires
    from rules as x
    inner join rules as y
        on y.room_id = x.room_id and y.user_id = x.user_id and y.end_ms = x.end_ms - 30000
        and y.rule_no = x.rule_no
    left join (select * replace (toNullable(user_id) as user_id) from rules) as z
        on z.room_id = x.room_id and z.user_id = x.user_id and z.end_ms = x.end_ms - 60000
        and z.rule_no = x.rule_no
    left join (select * replace (toNullable(user_id) as user_id) from rules) as w
        on w.room_id = x.room_id and w.user_id = x.user_id and w.end_ms = x.end_ms + 30000
    where x.role in ('teacher', 'student') and x.rule_no < 8 and x.fm_in_room = 0
        and z.user_id is null
        and (x.room_id, x.end_ms) not in (select room_id, evidence_end from primaries)
        and (x.room_id, x.end_ms - 30000) not in (select room_id, evidence_end from primaries)
),

decisions as (
    select * from help
    union all
    select * from detected
),

triage_rows as (
select
    request_id, source, room_id, user_id, role, request_time, received_time, decided_at,
    evidence_end,
    multiIf(decision = 0, 'merged', decision between 1 and 7, 'auto', 'manual') as outcome,
    [
        'duplicate', 'expired', 'no_evidence', 'fm_present', 'device', 'peer_device', 'enter',
        'peer_absent', 'network', 'media', 'courseware', 'uncovered'
    ][multiIf(decision = 0, 1, decision < 0, -decision, decision + 4)] as category,
    if(decision between 1 and 7, [
        'guide_device_check', 'guide_device_check', 'rejoin', 'call_peer', 'switch_line',
        'switch_line', 'reload_courseware'
    ][decision], '') as action,
    -- rule 4 calls the requester's tutor, a dimension column (C): set below
    toInt64(ifNull(multiIf(
        decision in (1, 3), requester, decision = 2, peer_device_user,
        decision = 5, network_user, decision = 6, media_user, decision = 7, courseware_user,
        null
    ), 0)) as target_user_id,
    if(decision between 1 and 7, toNullable(verify_start), null) as verify_start,
    multiIf(
        decision not between 1 and 7, '',
        verify_user is not null and not still_fires, 'resolved',
        'escalated'
    ) as verify_status,
    if(decision = 0, 0, decided_at - request_time) as handle_ms
from decisions
),

enriched as (
{{ with_dimension('triage_rows', 'request_time') }}
)

select * replace (
    toInt64(if(category = 'peer_absent', if(role = 'student', tutor_id, 0), target_user_id))
        as target_user_id
)
from enriched
