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

-- the eight ordered rules on the user's own row and the other role's rows (peer)
rules as (
    select
        *,
        multiIf(
            fires_1, 1, fires_2, 2, fires_3, 3, fires_4, 4, fires_5, 5, fires_6, 6, fires_7, 7, 8
        ) as rule_no
    from (
        select
            own.room_id as room_id, own.user_id as user_id, own.role as role,
            own.end_time as end_ms, own.fm_in_room as fm_in_room,
            own.device_abnormal = 1 as fires_1,
            peer.device_user is not null as fires_2,
            own.in_room = 0 or own.enter_fail = 1 as fires_3,
            own.peer_in_room = 0 and own.role != 'fm' as fires_4,
            own.net_quality = 'bad' or peer.network_user is not null as fires_5,
            own.audio_stall + own.video_stall + own.cannot_hear + own.cannot_see > 0
            or peer.media_user is not null as fires_6,
            own.courseware_load_fail + own.courseware_out_of_sync + own.cannot_draw > 0
            or peer.courseware_user is not null as fires_7,
            peer.device_user as peer_device_user,
            if(own.net_quality = 'bad', own.user_id, peer.network_user) as network_user,
            if(
                own.audio_stall + own.video_stall + own.cannot_hear + own.cannot_see > 0,
                own.user_id, peer.media_user
            ) as media_user,
            if(
                own.courseware_load_fail + own.courseware_out_of_sync + own.cannot_draw > 0,
                own.user_id, peer.courseware_user
            ) as courseware_user
        from labels as own
        left join role_flags as peer
            on
                peer.room_id = own.room_id and peer.start_time = own.start_time
                and peer.role = multiIf(own.role = 'teacher', 'student', own.role = 'student', 'teacher', '')
    ) as fired
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
            (acc, t) -> if(
                length(acc) > 0 and t > acc[-1] and t - acc[-1] <= 60000,
                acc, arrayPushBack(acc, t)
            ),
            arraySort(groupArray(request_time)),
            CAST([], 'Array(Int64)')
        ) as opened_times
    from primaries
    group by room_id, user_id
),

help as (
    select
        delivery.request_id as request_id, 'help' as source, delivery.room_id as room_id,
        delivery.user_id as user_id, delivery.role as role, delivery.request_time as request_time,
        delivery.received_time as received_time, delivery.decided_at as decided_at,
        delivery.evidence_end as evidence_end, delivery.verify_start as verify_start,
        multiIf(
            arrayExists(
                t -> t >= delivery.request_time - 60000 and t < delivery.request_time, opened.opened_times
            ),
            0,
            delivery.received_time - delivery.request_time > 60000, -2,
            delivery.role = 'fm' or evidence.user_id is null, -3,
            evidence.fm_in_room = 1, -4,
            evidence.rule_no
        ) as decision,
        {{ targets_and_verification('evidence') }}
    from primaries as delivery
    inner join opened on opened.room_id = delivery.room_id and opened.user_id = delivery.user_id
    left join (select * replace (toNullable(user_id) as user_id) from rules) as evidence
        on
            evidence.room_id = delivery.room_id and evidence.user_id = delivery.user_id
            and evidence.end_ms = delivery.evidence_end
    left join (select * replace (toNullable(user_id) as user_id) from rules) as verify
        on
            verify.room_id = delivery.room_id and verify.user_id = delivery.user_id
            and verify.end_ms = delivery.verify_start + 30000
),

-- proactive detection: same first rule at e and e - 30 s, not e - 60 s, no supervisor, and no
-- help request of the room with its evidence at e or e - 30 s
detected as (
    select
        concat(
            'det:', toString(latest.room_id), ':', toString(latest.user_id), ':', toString(latest.end_ms)
        ) as request_id,
        'detected' as source, latest.room_id as room_id, latest.user_id as user_id,
        latest.role as role,
        latest.end_ms as request_time,
        latest.end_ms as received_time, latest.end_ms as decided_at, latest.end_ms as evidence_end,
        latest.end_ms as verify_start, latest.rule_no as decision,
        {{ targets_and_verification('latest') }}
    from rules as latest
    inner join rules as previous
        on
            previous.room_id = latest.room_id and previous.user_id = latest.user_id
            and previous.end_ms = latest.end_ms - 30000 and previous.rule_no = latest.rule_no
    left join (select * replace (toNullable(user_id) as user_id) from rules) as earlier
        on
            earlier.room_id = latest.room_id and earlier.user_id = latest.user_id
            and earlier.end_ms = latest.end_ms - 60000 and earlier.rule_no = latest.rule_no
    left join (select * replace (toNullable(user_id) as user_id) from rules) as verify
        on
            verify.room_id = latest.room_id and verify.user_id = latest.user_id
            and verify.end_ms = latest.end_ms + 30000
    where
        latest.role in ('teacher', 'student') and latest.rule_no < 8 and latest.fm_in_room = 0
        and earlier.user_id is null
        and (latest.room_id, latest.end_ms) not in (select room_id, evidence_end from primaries)
        and (latest.room_id, latest.end_ms - 30000) not in (select room_id, evidence_end from primaries)
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
