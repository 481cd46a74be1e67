-- Problem labels per room, user and 30-second tumbling window of client_time, from the union of the
-- enter, av, device and courseware streams (seed 000); grain room x user x window with >= 1
-- message, insert-only (LIVE_CLASSROOM_CONTRACT.md A.2, A.3). From those rows, in the same job,
-- help_request_triage: one row per help request or detected ticket, an upsert log (A.4, A.5).
-- Both marts' rows (never raw events) carry the preheated lesson, room and org dimension through
-- asynchronous cached lookups of the warehouse, with a dim_status (C; dim_live_room and
-- dim_room_membership are lookup tables, connector classpulse-warehouse).

-- One shape for the four topics: each message says what it contributes to the label rules.
create temporary view label_inputs as
    select
        room_id, user_id, `role`, client_time, server_time, source_split, source_offset, event_at,
        'classroom_enter' as topic, 0 as topic_rank,
        `action` = 'enter' and `result` = 'success' as is_presence,
        `action` = 'leave' as is_leave,
        `action` = 'enter' as is_enter_attempt,
        `action` = 'enter' and `result` = 'fail' as is_enter_fail,
        `action` = 'enter' and `result` = 'success' as is_enter_success,
        `action` = 'enter' and `result` = 'success' and client_time - started_at > 10000
            as is_enter_slow,
        failed_component,
        cast(NULL as string) as media, 0 as interval_ms, 0 as freeze_ms, FALSE as is_silent,
        0 as loss_pct, 0 as rtt_ms,
        FALSE as is_device_abnormal,
        FALSE as is_load_fail, FALSE as is_load_ok, FALSE as is_out_of_sync, FALSE as is_draw_fail
    from classroom_enter_clean
    union all
    select
        room_id, user_id, `role`, client_time, server_time, source_split, source_offset, event_at,
        'classroom_av_sample', 1,
        TRUE, FALSE, FALSE, FALSE, FALSE, FALSE, cast(NULL as string),
        media, interval_ms, freeze_ms, bitrate_kbps = 0, loss_pct, rtt_ms,
        FALSE,
        FALSE, FALSE, FALSE, FALSE
    from classroom_av_sample_clean
    union all
    select
        room_id, user_id, `role`, client_time, server_time, source_split, source_offset, event_at,
        'classroom_device_sample', 2,
        TRUE, FALSE, FALSE, FALSE, FALSE, FALSE, cast(NULL as string),
        cast(NULL as string), 0, 0, FALSE, 0, 0,
        mic <> 'ok' or speaker <> 'ok' or camera <> 'ok' or cpu_pct >= 90,
        FALSE, FALSE, FALSE, FALSE
    from classroom_device_sample_clean
    union all
    select
        room_id, user_id, `role`, client_time, server_time, source_split, source_offset, event_at,
        'classroom_courseware_event', 3,
        FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, cast(NULL as string),
        cast(NULL as string), 0, 0, FALSE, 0, 0,
        FALSE,
        `action` = 'load' and `result` = 'fail',
        `action` = 'load' and `result` = 'ok',
        origin = 'peer' and `action` <> 'load' and (`result` = 'fail' or coalesce(lag_ms > 3000, FALSE)),
        origin = 'self' and `action` in ('draw', 'drag') and `result` = 'fail'
    from classroom_courseware_event_clean;

-- The union's watermark is the least of its inputs' (Flink union), so lateness is judged after it
-- (flink_sql/templates/late_by_split_watermark.sql): at or behind its split's watermark (kept in
-- state; a split is one partition of one of the four topics) or the operator's.
apply template late_by_split_watermark (
    view = 'label_messages_timed', source = 'label_inputs', event_time_ms = 'client_time',
    delay = '${LABEL_WATERMARK_DELAY_SECONDS}'
);

create temporary view label_messages_on_time as
select * from label_messages_timed where not is_late;

-- A.3 per user and window. "Latest" picks: latest_value(value, <the message's order>), the
-- value of the greatest (client_time, server_time, topic_rank, source_split, source_offset)
-- (flink_sql/functions.sql).
create temporary view label_user_windows as
select
    window_start, window_end, window_time, room_id, user_id,
    -- the epoch-aligned window start in epoch ms, whatever the session time zone
    MIN(client_time - MOD(client_time, 30000)) as start_ms,
    latest_value(`role`, client_time, server_time, topic_rank, source_split, source_offset)
        as `role`,
    COUNT(*) as messages,
    -- some presence strictly later than every leave: of presences and leaves, the latest is a
    -- presence (one message is never both)
    case when latest_value(
            if(is_presence, 'presence', 'leave'),
            client_time, server_time, topic_rank, source_split, source_offset
        ) filter (where is_presence or is_leave) = 'presence' then 1 else 0 end as in_room,
    COUNT(*) filter (where is_enter_attempt) as enter_attempts,
    case when COUNT(*) filter (where is_enter_fail) > 0
            and COUNT(*) filter (where is_enter_success) = 0 then 1 else 0 end as enter_fail,
    case when COUNT(*) filter (where is_enter_slow) > 0 then 1 else 0 end as enter_slow,
    COALESCE(latest_value(
        failed_component, client_time, server_time, topic_rank, source_split, source_offset
    ) filter (where is_enter_fail), '') as enter_fail_component,
    -- >= 20 % of the covered span frozen, in integers: 5 * sum(freeze) >= sum(interval)
    case when COUNT(*) filter (where media = 'audio') > 0
            and 5 * SUM(freeze_ms) filter (where media = 'audio')
                >= SUM(interval_ms) filter (where media = 'audio') then 1 else 0 end
        as audio_stall,
    case when COUNT(*) filter (where media = 'video') > 0
            and 5 * SUM(freeze_ms) filter (where media = 'video')
                >= SUM(interval_ms) filter (where media = 'video') then 1 else 0 end
        as video_stall,
    case when COUNT(*) filter (where media = 'audio') > 0
            and COUNT(*) filter (where media = 'audio' and not is_silent) = 0 then 1 else 0 end
        as cannot_hear,
    case when COUNT(*) filter (where media = 'video') > 0
            and COUNT(*) filter (where media = 'video' and not is_silent) = 0 then 1 else 0 end
        as cannot_see,
    -- n av samples, L = sum(loss_pct), R = sum(rtt_ms)
    case
        when COUNT(media) = 0 then 'none'
        when SUM(loss_pct) >= 10 * COUNT(media) or SUM(rtt_ms) >= 600 * COUNT(media) then 'bad'
        when SUM(loss_pct) >= 3 * COUNT(media) or SUM(rtt_ms) >= 300 * COUNT(media) then 'poor'
        else 'good'
    end as net_quality,
    case when COUNT(*) filter (where is_device_abnormal) > 0 then 1 else 0 end
        as device_abnormal,
    -- some load failure with no later successful load: of loads, the latest failed
    case when latest_value(
            if(is_load_fail, 'fail', 'ok'),
            client_time, server_time, topic_rank, source_split, source_offset
        ) filter (where is_load_fail or is_load_ok) = 'fail' then 1 else 0 end
        as courseware_load_fail,
    case when COUNT(*) filter (where is_out_of_sync) > 0 then 1 else 0 end
        as courseware_out_of_sync,
    case when COUNT(*) filter (where is_draw_fail) > 0 then 1 else 0 end as cannot_draw
from table(TUMBLE(table label_messages_on_time, DESCRIPTOR(event_at), interval '30' second))
group by window_start, window_end, window_time, room_id, user_id;

-- Who is in the room in each window (for peer_in_room and fm_in_room): a window aggregate over
-- the user windows (their window_time is the event time; start and end are renamed away).
create temporary view label_user_presence as
select room_id, `role`, in_room, window_time as user_window_time from label_user_windows;

create temporary view label_room_windows as
select
    window_start, window_end, room_id,
    MAX(case when `role` = 'teacher' then in_room else 0 end) as teacher_in_room,
    MAX(case when `role` = 'student' then in_room else 0 end) as student_in_room,
    MAX(case when `role` = 'fm' then in_room else 0 end) as fm_in_room
from table(TUMBLE(table label_user_presence, DESCRIPTOR(user_window_time), interval '30' second))
group by window_start, window_end, room_id;

create temporary view label_rows as
select
    user_window.*,
    case user_window.`role`
        when 'teacher' then room_window.student_in_room
        when 'student' then room_window.teacher_in_room
        else 0
    end as peer_in_room,
    room_window.fm_in_room
from label_user_windows as user_window
inner join label_room_windows as room_window
    on user_window.window_start = room_window.window_start
    and user_window.window_end = room_window.window_end
    and user_window.room_id = room_window.room_id;

-- Enrichment (C): one lookup per room-window row through the caches; only students have a
-- member key. Both lookups depend on the row alone (a lookup join keys on its input only).
create temporary view label_rows_keyed as
select
    -- the window's time attributes stay behind: the lookup joins on processing time
    start_ms, room_id, user_id, `role`, messages, in_room, enter_attempts, enter_fail,
    enter_slow, enter_fail_component, audio_stall, video_stall, cannot_hear, cannot_see,
    net_quality, device_abnormal, courseware_load_fail, courseware_out_of_sync, cannot_draw,
    peer_in_room, fm_in_room,
    case when `role` = 'student' then user_id end as member_key,
    PROCTIME() as lookup_time
from label_rows;

apply template room_dimensions (
    view = 'label_rows_enriched', rows = 'label_rows_keyed', time_ms = 'start_ms'
);

insert into room_user_labels_30s
select
    start_ms, start_ms + 30000,
    room_id, user_id, `role`, messages, in_room, enter_attempts, enter_fail, enter_slow,
    enter_fail_component, audio_stall, video_stall, cannot_hear, cannot_see, net_quality,
    device_abnormal, courseware_load_fail, courseware_out_of_sync, cannot_draw, peer_in_room,
    fm_in_room,
    -- A.3's order of problem labels
    ARRAY_REMOVE(array[
        if(in_room = 0, 'not_in_room', ''),
        if(enter_fail = 1, 'enter_fail', ''),
        if(enter_slow = 1, 'enter_slow', ''),
        if(`role` <> 'fm' and peer_in_room = 0, 'peer_absent', ''),
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
    ], ''),
    -- dimension columns (C, flink_sql/templates/room_dimensions.sql)
    dim_lesson_id, dim_lesson_date, dim_room_role, dim_expected_members, dim_tutor_id,
    dim_class_id, dim_org_node_id, dim_run_id, dim_status,
    current_timestamp
from label_rows_enriched;

-- In late_events the room id rides in classroom_id (room ids are UInt64), the role in user_type,
-- the input topic in event.
apply template route_late_events (
    mart = 'room_user_labels_30s', events = 'label_messages_timed', event_time_ms = 'client_time',
    window_ms = '30000', user_id = 'user_id', classroom_id = 'cast(room_id as string)',
    user_type = '`role`', event = 'topic'
);

-- ------------------------------------------------------------------------------------------
-- help_request_triage (A.4) from the label rows above, in the same Flink job: help requests and
-- label rows meet on the closed form of the seed's sliding cogroup (30 s, slide 15 s): decision
-- c = 15 s * (floor(h / 15 s) + 1), evidence end e = 30 s * floor(c / 30 s), verification window
-- [v, v + 30 s) with v = 30 s * ceil(c / 30 s). The joins are regular joins on those keys; the
-- mart is an upsert log by request_id (decision, then verdict), as the other updating marts.

-- Per room, window and role: the smallest user on whom each peer-checked rule holds.
create temporary view triage_role_flags as
select
    room_id, start_ms, `role`,
    MIN(user_id) filter (where device_abnormal = 1) as device_user,
    MIN(user_id) filter (where net_quality = 'bad') as network_user,
    MIN(user_id) filter (
        where audio_stall = 1 or video_stall = 1 or cannot_hear = 1 or cannot_see = 1
    ) as media_user,
    MIN(user_id) filter (
        where courseware_load_fail = 1 or courseware_out_of_sync = 1 or cannot_draw = 1
    ) as courseware_user
from label_rows
where `role` in ('teacher', 'student')
group by room_id, start_ms, `role`;

-- The eight ordered rules of A.4 on one label row R (the user's) and the other role's rows P:
-- a rule "fires" on R, else on some P; rule_no is the first that fires (8: none).
create temporary view triage_rules as
select
    *,
    case
        when fires_1 then 1 when fires_2 then 2 when fires_3 then 3 when fires_4 then 4
        when fires_5 then 5 when fires_6 then 6 when fires_7 then 7 else 8
    end as rule_no
from (
    select
        own.room_id, own.user_id, own.`role`, own.start_ms + 30000 as end_ms, own.fm_in_room,
        own.device_abnormal = 1 as fires_1,
        peer.device_user is not null as fires_2,
        own.in_room = 0 or own.enter_fail = 1 as fires_3,
        own.peer_in_room = 0 and own.`role` <> 'fm' as fires_4,
        own.net_quality = 'bad' or peer.network_user is not null as fires_5,
        own.audio_stall = 1 or own.video_stall = 1 or own.cannot_hear = 1 or own.cannot_see = 1
            or peer.media_user is not null as fires_6,
        own.courseware_load_fail = 1 or own.courseware_out_of_sync = 1 or own.cannot_draw = 1
            or peer.courseware_user is not null as fires_7,
        -- the user a rule acts on: the requester when R holds it, else the smallest P user
        peer.device_user as peer_device_user,
        case
            when own.net_quality = 'bad' then own.user_id else peer.network_user
        end as network_user,
        case
            when own.audio_stall = 1 or own.video_stall = 1 or own.cannot_hear = 1
                or own.cannot_see = 1 then own.user_id
            else peer.media_user
        end as media_user,
        case
            when own.courseware_load_fail = 1 or own.courseware_out_of_sync = 1
                or own.cannot_draw = 1 then own.user_id
            else peer.courseware_user
        end as courseware_user
    -- own: R, the user's label row; peer: P, the other role's flags in the same room and window
    from label_rows as own
    left join triage_role_flags as peer
        on peer.room_id = own.room_id and peer.start_ms = own.start_ms
        and peer.`role`
        = case own.`role` when 'teacher' then 'student' when 'student' then 'teacher' end
);

-- Help presses with their lateness: behind the help stream's watermark on arrival (contract 0) a
-- press is late and goes to late_events. As for the union, the watermark is its split's (kept in
-- state, so a press behind a later one of its split is late however fast the split was read) or
-- the operator's. A late press is still decided: the joins below are regular joins whose state
-- keeps the evidence, so rt and ads hold the same requests (A.5 names late label messages as the
-- only cause of a difference), e.g. an expired press, late by construction.
apply template late_by_split_watermark (
    view = 'help_messages', source = 'classroom_help_request_clean', event_time_ms = 'client_time',
    delay = '${LABEL_WATERMARK_DELAY_SECONDS}'
);

-- Accounting of the help presses: every accepted message is on time or late (counted + late =
-- accepted), whether first delivery or redelivery.
apply template route_late_events (
    mart = 'help_request_triage', events = 'help_messages', event_time_ms = 'client_time',
    user_id = 'user_id', classroom_id = 'cast(room_id as string)', user_type = '`role`',
    event = 'request_id'
);

-- First delivery per request_id: least server_time, then place in the topic; its fields ride in
-- one MIN key (redeliveries are accepted and produce no row).
create temporary view triage_requests as
select
    request_id,
    cast(SPLIT_INDEX(first_delivery, CHR(1), 3) as decimal(20, 0)) as room_id,
    cast(SPLIT_INDEX(first_delivery, CHR(1), 4) as bigint) as user_id,
    SPLIT_INDEX(first_delivery, CHR(1), 5) as `role`,
    cast(SPLIT_INDEX(first_delivery, CHR(1), 6) as bigint) as client_time,
    cast(SPLIT_INDEX(first_delivery, CHR(1), 0) as bigint) as server_time
from (
    select
        request_id,
        MIN(CONCAT_WS(CHR(1),
            LPAD(cast(server_time as string), 19, '0'), source_split,
            LPAD(cast(COALESCE(source_offset, 0) as string), 19, '0'),
            cast(room_id as string), cast(user_id as string), `role`, cast(client_time as string)
        )) as first_delivery
    from help_messages
    group by request_id
);

create temporary view triage_requests_timed as
select
    *,
    15000 * (FLOOR(client_time / 15000) + 1) as decided_at
from (select request_id, room_id, user_id, `role`, client_time, server_time from triage_requests);

create temporary view triage_requests_windows as
select
    *,
    30000 * FLOOR(decided_at / 30000) as evidence_end,
    30000 * CEIL(decided_at / 30000.0) as verify_start
from triage_requests_timed;

-- Pre-check 1: an earlier first delivery of the same room and user within 60 s.
create temporary view triage_merged as
select distinct request.request_id
from triage_requests as request
inner join triage_requests as earlier
    on earlier.room_id = request.room_id and earlier.user_id = request.user_id
    and earlier.client_time >= request.client_time - 60000
    and earlier.client_time < request.client_time;

create temporary view triage_help_decisions as
select
    help.request_id, 'help' as source, help.room_id, help.user_id, help.`role`,
    help.client_time as request_time, help.server_time as received_time,
    cast(help.decided_at as bigint) as decided_at,
    cast(help.evidence_end as bigint) as evidence_end,
    cast(help.verify_start as bigint) as verify_start,
    case
        when merged.request_id is not null then 0
        when help.server_time - help.client_time > 60000 then -2  -- expired
        when help.`role` = 'fm' or evidence.user_id is null then -3  -- no evidence
        when evidence.fm_in_room = 1 then -4  -- a supervisor is there
        else evidence.rule_no
    end as decision,
    evidence.user_id as requester, evidence.peer_device_user, evidence.network_user,
    evidence.media_user, evidence.courseware_user,
    verify.user_id as verify_user,
    case evidence.rule_no
        when 1 then verify.fires_1 when 2 then verify.fires_2 when 3 then verify.fires_3
        when 4 then verify.fires_4 when 5 then verify.fires_5 when 6 then verify.fires_6
        when 7 then verify.fires_7
    end as still_fires
from triage_requests_windows as help
left join triage_merged as merged on merged.request_id = help.request_id
left join triage_rules as evidence
    on evidence.room_id = help.room_id and evidence.user_id = help.user_id
    and evidence.end_ms = help.evidence_end
left join triage_rules as verify
    on verify.room_id = help.room_id and verify.user_id = help.user_id
    and verify.end_ms = help.verify_start + 30000;

-- The rooms and evidence ends of primary help requests (proactive detection stays away).
create temporary view triage_help_evidence as
select distinct room_id, cast(evidence_end as bigint) as evidence_end
from triage_requests_windows;

-- Proactive detection: the first firing rule is the same at e and e - 30 s but not e - 60 s, no
-- supervisor, and no help request of the room has its evidence at e or e - 30 s.
create temporary view triage_detected_decisions as
select
    CONCAT('det:', cast(current_rules.room_id as string), ':',
        cast(current_rules.user_id as string), ':',
        cast(current_rules.end_ms as string)) as request_id,
    'detected' as source, current_rules.room_id, current_rules.user_id, current_rules.`role`,
    current_rules.end_ms as request_time, current_rules.end_ms as received_time,
    current_rules.end_ms as decided_at, current_rules.end_ms as evidence_end,
    current_rules.end_ms as verify_start,
    current_rules.rule_no as decision,
    current_rules.user_id as requester, current_rules.peer_device_user,
    current_rules.network_user, current_rules.media_user, current_rules.courseware_user,
    verify.user_id as verify_user,
    case current_rules.rule_no
        when 1 then verify.fires_1 when 2 then verify.fires_2 when 3 then verify.fires_3
        when 4 then verify.fires_4 when 5 then verify.fires_5 when 6 then verify.fires_6
        when 7 then verify.fires_7
    end as still_fires
-- the rules at e (current), e - 30 s (previous), e - 60 s (earlier) and e + 30 s (verify)
from triage_rules as current_rules
inner join triage_rules as previous
    on previous.room_id = current_rules.room_id and previous.user_id = current_rules.user_id
    and previous.end_ms = current_rules.end_ms - 30000
    and previous.rule_no = current_rules.rule_no
left join triage_rules as earlier
    on earlier.room_id = current_rules.room_id and earlier.user_id = current_rules.user_id
    and earlier.end_ms = current_rules.end_ms - 60000
    and earlier.rule_no = current_rules.rule_no
left join triage_rules as verify
    on verify.room_id = current_rules.room_id and verify.user_id = current_rules.user_id
    and verify.end_ms = current_rules.end_ms + 30000
-- anti-joins, not NOT EXISTS: a correlated subquery is not decorrelated once the rows meet the
-- dimension lookup downstream
left join triage_help_evidence as help_at_end
    on help_at_end.room_id = current_rules.room_id
    and help_at_end.evidence_end = current_rules.end_ms
left join triage_help_evidence as help_before_end
    on help_before_end.room_id = current_rules.room_id
    and help_before_end.evidence_end = current_rules.end_ms - 30000
where current_rules.`role` in ('teacher', 'student') and current_rules.rule_no < 8
    and current_rules.fm_in_room = 0
    and earlier.user_id is null and help_at_end.room_id is null
    and help_before_end.room_id is null;

-- decision: 0 merged, -2 expired, -3 no evidence, -4 fm present, 1-8 the rule that fired.
create temporary view triage_rows as
select
    request_id, source, room_id, user_id, `role`, request_time, received_time, decided_at,
    evidence_end,
    case when decision = 0 then 'merged' when decision between 1 and 7 then 'auto'
        else 'manual' end as outcome,
    case decision
        when 0 then 'duplicate' when -2 then 'expired' when -3 then 'no_evidence'
        when -4 then 'fm_present' when 1 then 'device' when 2 then 'peer_device'
        when 3 then 'enter' when 4 then 'peer_absent' when 5 then 'network'
        when 6 then 'media' when 7 then 'courseware' else 'uncovered'
    end as category,
    case decision
        when 1 then 'guide_device_check' when 2 then 'guide_device_check' when 3 then 'rejoin'
        when 4 then 'call_peer' when 5 then 'switch_line' when 6 then 'switch_line'
        when 7 then 'reload_courseware' else ''
    end as `action`,
    -- rule 4 calls the requester's tutor, a dimension column (C): set after the lookup below
    COALESCE(case decision
        when 1 then requester when 2 then peer_device_user when 3 then requester
        when 5 then network_user when 6 then media_user when 7 then courseware_user
    end, 0) as target_user_id,
    case when decision between 1 and 7 then verify_start end as verify_start,
    case
        when decision not between 1 and 7 then ''
        when verify_user is not null and not still_fires then 'resolved'
        else 'escalated'
    end as verify_status,
    case when decision = 0 then 0 else decided_at - request_time end as handle_ms
from (
    select * from triage_help_decisions
    union all
    select * from triage_detected_decisions
);

-- One current row per request_id. The joins above retract and re-insert rows as evidence arrives,
-- and mini-batching may deliver a retraction after the row that replaced it; an aggregate counts
-- them apart, so once all evidence is in each MAX is that of the one remaining row.
create temporary view triage_current as
select
    request_id, MAX(source) as source, MAX(room_id) as room_id, MAX(user_id) as user_id,
    MAX(`role`) as `role`, MAX(request_time) as request_time,
    MAX(received_time) as received_time, MAX(decided_at) as decided_at,
    MAX(evidence_end) as evidence_end, MAX(outcome) as outcome, MAX(category) as category,
    MAX(`action`) as `action`, MAX(target_user_id) as target_user_id,
    MAX(verify_start) as verify_start, MAX(verify_status) as verify_status,
    MAX(handle_ms) as handle_ms
from triage_rows
group by request_id;

create temporary view triage_changes as
select *, PROCTIME() as changed_at
from TO_CHANGELOG(input => table triage_current);

-- Upsert log as in mart_registrations_hourly_by_level: the greatest version per request_id is
-- the current row; a row a later input replaced is a DELETE (is_deleted = 1).
create temporary view triage_versions as
select
    request_id, source, room_id, user_id, `role`, request_time, received_time, decided_at,
    evidence_end, outcome, category, `action`, target_user_id, verify_start, verify_status,
    handle_ms, `version`, is_deleted,
    case when `role` = 'student' then user_id end as member_key,
    PROCTIME() as lookup_time
from (
    select
        *,
        cast(UNIX_TIMESTAMP() as bigint) * 1000000000 + COUNT(*) OVER (
            partition by request_id order by changed_at
            rows between unbounded preceding and current row
        ) as `version`,
        cast(case when op = 'DELETE' then 1 else 0 end as tinyint) as is_deleted
    from triage_changes
)
where op <> 'UPDATE_BEFORE';

-- Enrichment (C) of each version, at request_time, as the label rows.
apply template room_dimensions (
    view = 'triage_enriched', rows = 'triage_versions', time_ms = 'request_time'
);

insert into help_request_triage
select
    request_id, source, room_id, user_id, `role`, request_time, received_time, decided_at,
    evidence_end, outcome, category, `action`,
    -- rule 4 (peer_absent) calls the requester's tutor when a student asks, else nobody
    case
        when category = 'peer_absent' then if(`role` = 'student', dim_tutor_id, 0)
        else target_user_id
    end,
    verify_start, verify_status, handle_ms, `version`, is_deleted,
    -- dimension columns (C, flink_sql/templates/room_dimensions.sql)
    dim_lesson_id, dim_lesson_date, dim_room_role, dim_expected_members, dim_tutor_id,
    dim_class_id, dim_org_node_id, dim_run_id, dim_status,
    current_timestamp
from triage_enriched;
