-- Problem labels per room, user and 30-second tumbling window of client_time, from the union of the
-- enter, av, device and courseware streams (seed 000); grain room x user x window with >= 1
-- message, insert-only (LIVE_CLASSROOM_CONTRACT.md A.2, A.3). From those rows, in the same job,
-- help_request_triage: one row per help request or detected ticket, an upsert log (A.4, A.5).
-- Both marts' rows (never raw events) carry the preheated lesson, room and org dimension through
-- asynchronous cached lookups of the warehouse, with a dim_status (C; dim_live_room and
-- dim_room_membership are lookup tables, connector classpulse-warehouse).

-- One shape for the four topics: each message says what it contributes to the label rules.
CREATE TEMPORARY VIEW label_inputs AS
    SELECT
        room_id, user_id, `role`, client_time, server_time, source_split, source_offset, event_at,
        'classroom_enter' AS topic, 0 AS topic_rank,
        `action` = 'enter' AND `result` = 'success' AS is_presence,
        `action` = 'leave' AS is_leave,
        `action` = 'enter' AS is_enter_attempt,
        `action` = 'enter' AND `result` = 'fail' AS is_enter_fail,
        `action` = 'enter' AND `result` = 'success' AS is_enter_success,
        `action` = 'enter' AND `result` = 'success' AND client_time - started_at > 10000
            AS is_enter_slow,
        failed_component,
        CAST(NULL AS STRING) AS media, 0 AS interval_ms, 0 AS freeze_ms, FALSE AS is_silent,
        0 AS loss_pct, 0 AS rtt_ms,
        FALSE AS is_device_abnormal,
        FALSE AS is_load_fail, FALSE AS is_load_ok, FALSE AS is_out_of_sync, FALSE AS is_draw_fail
    FROM classroom_enter_clean
    UNION ALL
    SELECT
        room_id, user_id, `role`, client_time, server_time, source_split, source_offset, event_at,
        'classroom_av_sample', 1,
        TRUE, FALSE, FALSE, FALSE, FALSE, FALSE, CAST(NULL AS STRING),
        media, interval_ms, freeze_ms, bitrate_kbps = 0, loss_pct, rtt_ms,
        FALSE,
        FALSE, FALSE, FALSE, FALSE
    FROM classroom_av_sample_clean
    UNION ALL
    SELECT
        room_id, user_id, `role`, client_time, server_time, source_split, source_offset, event_at,
        'classroom_device_sample', 2,
        TRUE, FALSE, FALSE, FALSE, FALSE, FALSE, CAST(NULL AS STRING),
        CAST(NULL AS STRING), 0, 0, FALSE, 0, 0,
        mic <> 'ok' OR speaker <> 'ok' OR camera <> 'ok' OR cpu_pct >= 90,
        FALSE, FALSE, FALSE, FALSE
    FROM classroom_device_sample_clean
    UNION ALL
    SELECT
        room_id, user_id, `role`, client_time, server_time, source_split, source_offset, event_at,
        'classroom_courseware_event', 3,
        FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, CAST(NULL AS STRING),
        CAST(NULL AS STRING), 0, 0, FALSE, 0, 0,
        FALSE,
        `action` = 'load' AND `result` = 'fail',
        `action` = 'load' AND `result` = 'ok',
        origin = 'peer' AND `action` <> 'load' AND (`result` = 'fail' OR COALESCE(lag_ms > 3000, FALSE)),
        origin = 'self' AND `action` IN ('draw', 'drag') AND `result` = 'fail'
    FROM classroom_courseware_event_clean;

-- The union's watermark is the least of its inputs' (Flink union), so lateness is judged after it,
-- as in mart_classroom_performance_1min: at or behind its split's watermark (kept in state; a split
-- is one partition of one of the four topics) or the operator's.
-- order_key sorts messages as "latest" does (client_time, server_time, topic, place in it).
CREATE TEMPORARY VIEW label_messages AS
SELECT
    *,
    split_late OR COALESCE(event_at <= CURRENT_WATERMARK(event_at), FALSE) AS is_late,
    CASE
        WHEN split_late THEN TO_TIMESTAMP_LTZ(split_watermark_ms, 3)
        ELSE CURRENT_WATERMARK(event_at)
    END AS watermark_at,
    CONCAT(
        LPAD(CAST(client_time AS STRING), 19, '0'), LPAD(CAST(server_time AS STRING), 19, '0'),
        CAST(topic_rank AS STRING), source_split, CHR(0),
        LPAD(CAST(COALESCE(source_offset, 0) AS STRING), 19, '0')
    ) AS order_key
FROM (
    SELECT *, client_time <= split_watermark_ms AS split_late
    FROM (
        SELECT
            *,
            MAX(client_time) OVER (
                PARTITION BY source_split ORDER BY arrived_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) - ${LABEL_WATERMARK_DELAY_SECONDS} * 1000 AS split_watermark_ms
        FROM (SELECT *, PROCTIME() AS arrived_at FROM label_inputs)
    )
);

CREATE TEMPORARY VIEW label_messages_on_time AS
SELECT * FROM label_messages WHERE NOT is_late;

-- A.3 per user and window. "Latest" picks ride in MAX(CONCAT(order_key, CHR(1), value)).
CREATE TEMPORARY VIEW label_user_windows AS
SELECT
    window_start, window_end, window_time, room_id, user_id,
    -- the epoch-aligned window start in epoch ms, whatever the session time zone
    MIN(client_time - MOD(client_time, 30000)) AS start_ms,
    SPLIT_INDEX(MAX(CONCAT(order_key, CHR(1), `role`)), CHR(1), 1) AS `role`,
    COUNT(*) AS messages,
    -- some presence strictly later than every leave (none: -infinity, here '')
    CASE WHEN MAX(order_key) FILTER (WHERE is_presence)
            > COALESCE(MAX(order_key) FILTER (WHERE is_leave), '') THEN 1 ELSE 0 END AS in_room,
    COUNT(*) FILTER (WHERE is_enter_attempt) AS enter_attempts,
    CASE WHEN COUNT(*) FILTER (WHERE is_enter_fail) > 0
            AND COUNT(*) FILTER (WHERE is_enter_success) = 0 THEN 1 ELSE 0 END AS enter_fail,
    CASE WHEN COUNT(*) FILTER (WHERE is_enter_slow) > 0 THEN 1 ELSE 0 END AS enter_slow,
    COALESCE(SPLIT_INDEX(
        MAX(CONCAT(order_key, CHR(1), failed_component)) FILTER (WHERE is_enter_fail),
        CHR(1), 1), '') AS enter_fail_component,
    -- >= 20 % of the covered span frozen, in integers: 5 * sum(freeze) >= sum(interval)
    CASE WHEN COUNT(*) FILTER (WHERE media = 'audio') > 0
            AND 5 * SUM(freeze_ms) FILTER (WHERE media = 'audio')
                >= SUM(interval_ms) FILTER (WHERE media = 'audio') THEN 1 ELSE 0 END
        AS audio_stall,
    CASE WHEN COUNT(*) FILTER (WHERE media = 'video') > 0
            AND 5 * SUM(freeze_ms) FILTER (WHERE media = 'video')
                >= SUM(interval_ms) FILTER (WHERE media = 'video') THEN 1 ELSE 0 END
        AS video_stall,
    CASE WHEN COUNT(*) FILTER (WHERE media = 'audio') > 0
            AND COUNT(*) FILTER (WHERE media = 'audio' AND NOT is_silent) = 0 THEN 1 ELSE 0 END
        AS cannot_hear,
    CASE WHEN COUNT(*) FILTER (WHERE media = 'video') > 0
            AND COUNT(*) FILTER (WHERE media = 'video' AND NOT is_silent) = 0 THEN 1 ELSE 0 END
        AS cannot_see,
    -- n av samples, L = sum(loss_pct), R = sum(rtt_ms)
    CASE
        WHEN COUNT(media) = 0 THEN 'none'
        WHEN SUM(loss_pct) >= 10 * COUNT(media) OR SUM(rtt_ms) >= 600 * COUNT(media) THEN 'bad'
        WHEN SUM(loss_pct) >= 3 * COUNT(media) OR SUM(rtt_ms) >= 300 * COUNT(media) THEN 'poor'
        ELSE 'good'
    END AS net_quality,
    CASE WHEN COUNT(*) FILTER (WHERE is_device_abnormal) > 0 THEN 1 ELSE 0 END
        AS device_abnormal,
    -- some load failure with no later successful load
    CASE WHEN MAX(order_key) FILTER (WHERE is_load_fail)
            > COALESCE(MAX(order_key) FILTER (WHERE is_load_ok), '') THEN 1 ELSE 0 END
        AS courseware_load_fail,
    CASE WHEN COUNT(*) FILTER (WHERE is_out_of_sync) > 0 THEN 1 ELSE 0 END
        AS courseware_out_of_sync,
    CASE WHEN COUNT(*) FILTER (WHERE is_draw_fail) > 0 THEN 1 ELSE 0 END AS cannot_draw
FROM TABLE(TUMBLE(TABLE label_messages_on_time, DESCRIPTOR(event_at), INTERVAL '30' SECOND))
GROUP BY window_start, window_end, window_time, room_id, user_id;

-- Who is in the room in each window (for peer_in_room and fm_in_room): a window aggregate over
-- the user windows (their window_time is the event time; start and end are renamed away).
CREATE TEMPORARY VIEW label_user_presence AS
SELECT room_id, `role`, in_room, window_time AS user_window_time FROM label_user_windows;

CREATE TEMPORARY VIEW label_room_windows AS
SELECT
    window_start, window_end, room_id,
    MAX(CASE WHEN `role` = 'teacher' THEN in_room ELSE 0 END) AS teacher_in_room,
    MAX(CASE WHEN `role` = 'student' THEN in_room ELSE 0 END) AS student_in_room,
    MAX(CASE WHEN `role` = 'fm' THEN in_room ELSE 0 END) AS fm_in_room
FROM TABLE(TUMBLE(TABLE label_user_presence, DESCRIPTOR(user_window_time), INTERVAL '30' SECOND))
GROUP BY window_start, window_end, room_id;

CREATE TEMPORARY VIEW label_rows AS
SELECT
    u.*,
    CASE u.`role`
        WHEN 'teacher' THEN r.student_in_room
        WHEN 'student' THEN r.teacher_in_room
        ELSE 0
    END AS peer_in_room,
    r.fm_in_room
FROM label_user_windows AS u
INNER JOIN label_room_windows AS r
    ON u.window_start = r.window_start AND u.window_end = r.window_end AND u.room_id = r.room_id;

-- Enrichment (C): one lookup per room-window row through the caches; only students have a
-- member key. Both lookups depend on the row alone (a lookup join keys on its input only).
CREATE TEMPORARY VIEW label_rows_keyed AS
SELECT
    -- the window's time attributes stay behind: the lookup joins on processing time
    start_ms, room_id, user_id, `role`, messages, in_room, enter_attempts, enter_fail,
    enter_slow, enter_fail_component, audio_stall, video_stall, cannot_hear, cannot_see,
    net_quality, device_abnormal, courseware_load_fail, courseware_out_of_sync, cannot_draw,
    peer_in_room, fm_in_room,
    CASE WHEN `role` = 'student' THEN user_id END AS member_key,
    PROCTIME() AS lookup_time
FROM label_rows;

CREATE TEMPORARY VIEW label_rows_enriched AS
-- the lookups' input hashed by their keys (FLIP-204): a key is cached by one subtask only
SELECT
    /*+ LOOKUP('table'='d', 'shuffle'='true'), LOOKUP('table'='m', 'shuffle'='true') */
    l.*,
    CASE
        WHEN d.lookup_status <> 'ok' OR m.lookup_status <> 'ok' THEN 'lookup_timeout'
        WHEN d.lookup_status IS NULL THEN 'room_unknown'
        -- a member of the room's lesson (the membership lookup returns the student's greatest one)
        WHEN l.`role` = 'student' AND (m.lookup_status IS NULL OR m.lesson_id <> d.lesson_id)
            THEN 'member_unknown'
        ELSE 'ok'
    END AS dim_status,
    d.lesson_id AS room_lesson_id, d.lesson_date AS room_lesson_date, d.room_role AS room_role_found,
    d.expected_members AS room_expected_members, d.tutor_id AS room_tutor_id,
    d.scope_node_id AS room_scope_node_id, d.run_id AS room_run_id,
    m.tutor_id AS member_tutor_id, m.class_id AS member_class_id,
    m.group_node_id AS member_group_node_id
FROM label_rows_keyed AS l
LEFT JOIN dim_live_room FOR SYSTEM_TIME AS OF l.lookup_time AS d
    ON d.room_id = l.room_id
LEFT JOIN dim_room_membership FOR SYSTEM_TIME AS OF l.lookup_time AS m
    ON m.room_id = l.room_id AND m.student_id = l.member_key;

INSERT INTO room_user_labels_30s
SELECT
    start_ms, start_ms + 30000,
    room_id, user_id, `role`, messages, in_room, enter_attempts, enter_fail, enter_slow,
    enter_fail_component, audio_stall, video_stall, cannot_hear, cannot_see, net_quality,
    device_abnormal, courseware_load_fail, courseware_out_of_sync, cannot_draw, peer_in_room,
    fm_in_room,
    -- A.3's order of problem labels
    ARRAY_REMOVE(ARRAY[
        IF(in_room = 0, 'not_in_room', ''),
        IF(enter_fail = 1, 'enter_fail', ''),
        IF(enter_slow = 1, 'enter_slow', ''),
        IF(`role` <> 'fm' AND peer_in_room = 0, 'peer_absent', ''),
        IF(audio_stall = 1, 'audio_stall', ''),
        IF(video_stall = 1, 'video_stall', ''),
        IF(cannot_hear = 1, 'cannot_hear', ''),
        IF(cannot_see = 1, 'cannot_see', ''),
        IF(net_quality = 'bad', 'net_bad', ''),
        IF(net_quality = 'poor', 'net_poor', ''),
        IF(device_abnormal = 1, 'device_abnormal', ''),
        IF(courseware_load_fail = 1, 'courseware_load_fail', ''),
        IF(courseware_out_of_sync = 1, 'courseware_out_of_sync', ''),
        IF(cannot_draw = 1, 'cannot_draw', '')
    ], ''),
    -- dimension columns (C): a known room gives its columns, a member its tutor, class and
    -- group; otherwise zeros and the business date of the row's time
    IF(dim_status IN ('ok', 'member_unknown'), room_lesson_id, 0),
    IF(dim_status IN ('ok', 'member_unknown'), room_lesson_date,
        CAST(TO_TIMESTAMP_LTZ(start_ms, 3) AS DATE)),
    IF(dim_status IN ('ok', 'member_unknown'), room_role_found, ''),
    IF(dim_status IN ('ok', 'member_unknown'), room_expected_members, 0),
    CASE
        WHEN dim_status = 'ok' AND `role` = 'student' THEN member_tutor_id
        WHEN dim_status IN ('ok', 'member_unknown') THEN room_tutor_id
        ELSE 0
    END,
    IF(dim_status = 'ok' AND `role` = 'student', member_class_id, 0),
    CASE
        WHEN dim_status = 'ok' AND `role` = 'student' THEN member_group_node_id
        WHEN dim_status IN ('ok', 'member_unknown') THEN room_scope_node_id
        ELSE 0
    END,
    IF(dim_status IN ('ok', 'member_unknown'), room_run_id, 0),
    dim_status,
    CURRENT_TIMESTAMP
FROM label_rows_enriched;

INSERT INTO late_events
SELECT
    'room_user_labels_30s',
    DATE_FORMAT(event_at, 'yyyy-MM-dd HH:mm:ss'),
    client_time,
    DATE_FORMAT(watermark_at, 'yyyy-MM-dd HH:mm:ss.SSS'),
    DATE_FORMAT(TO_TIMESTAMP_LTZ(client_time - MOD(client_time, 30000), 3), 'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(
        TO_TIMESTAMP_LTZ(client_time - MOD(client_time, 30000) + 30000, 3), 'yyyy-MM-dd HH:mm:ss'),
    user_id,
    CAST(NULL AS BIGINT),
    CAST(room_id AS STRING),  -- room ids are UInt64: they ride in classroom_id
    `role`,
    CAST(NULL AS INT),
    topic,
    CAST(NULL AS BIGINT),
    CAST(NULL AS BIGINT),
    source_split,
    CURRENT_TIMESTAMP
FROM label_messages
WHERE is_late;

CREATE TEMPORARY VIEW label_counts AS
SELECT
    'room_user_labels_30s' AS mart,
    COUNT(*) AS events_in,
    COUNT(*) FILTER (WHERE NOT is_late) AS events_counted,
    COUNT(*) FILTER (WHERE is_late) AS events_late,
    MIN(CURRENT_ROW_TIMESTAMP()) AS counting_since
FROM label_messages;

-- Counts only grow within a job's life (counting_since, kept in state, tells one run from
-- another), so the newest row of a run is the one with the most events_in.
INSERT INTO mart_accounting
SELECT mart, counting_since, events_in, events_counted, events_late, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE label_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');

-- ------------------------------------------------------------------------------------------
-- help_request_triage (A.4) from the label rows above, in the same Flink job: help requests and
-- label rows meet on the closed form of the seed's sliding cogroup (30 s, slide 15 s): decision
-- c = 15 s * (floor(h / 15 s) + 1), evidence end e = 30 s * floor(c / 30 s), verification window
-- [v, v + 30 s) with v = 30 s * ceil(c / 30 s). The joins are regular joins on those keys; the
-- mart is an upsert log by request_id (decision, then verdict), as the other updating marts.

-- Per room, window and role: the smallest user on whom each peer-checked rule holds.
CREATE TEMPORARY VIEW triage_role_flags AS
SELECT
    room_id, start_ms, `role`,
    MIN(user_id) FILTER (WHERE device_abnormal = 1) AS device_user,
    MIN(user_id) FILTER (WHERE net_quality = 'bad') AS network_user,
    MIN(user_id) FILTER (
        WHERE audio_stall = 1 OR video_stall = 1 OR cannot_hear = 1 OR cannot_see = 1
    ) AS media_user,
    MIN(user_id) FILTER (
        WHERE courseware_load_fail = 1 OR courseware_out_of_sync = 1 OR cannot_draw = 1
    ) AS courseware_user
FROM label_rows
WHERE `role` IN ('teacher', 'student')
GROUP BY room_id, start_ms, `role`;

-- The eight ordered rules of A.4 on one label row R (the user's) and the other role's rows P:
-- a rule "fires" on R, else on some P; rule_no is the first that fires (8: none).
CREATE TEMPORARY VIEW triage_rules AS
SELECT
    *,
    CASE
        WHEN fires_1 THEN 1 WHEN fires_2 THEN 2 WHEN fires_3 THEN 3 WHEN fires_4 THEN 4
        WHEN fires_5 THEN 5 WHEN fires_6 THEN 6 WHEN fires_7 THEN 7 ELSE 8
    END AS rule_no
FROM (
    SELECT
        r.room_id, r.user_id, r.`role`, r.start_ms + 30000 AS end_ms, r.fm_in_room,
        r.device_abnormal = 1 AS fires_1,
        p.device_user IS NOT NULL AS fires_2,
        r.in_room = 0 OR r.enter_fail = 1 AS fires_3,
        r.peer_in_room = 0 AND r.`role` <> 'fm' AS fires_4,
        r.net_quality = 'bad' OR p.network_user IS NOT NULL AS fires_5,
        r.audio_stall = 1 OR r.video_stall = 1 OR r.cannot_hear = 1 OR r.cannot_see = 1
            OR p.media_user IS NOT NULL AS fires_6,
        r.courseware_load_fail = 1 OR r.courseware_out_of_sync = 1 OR r.cannot_draw = 1
            OR p.courseware_user IS NOT NULL AS fires_7,
        -- the user a rule acts on: the requester when R holds it, else the smallest P user
        p.device_user AS peer_device_user,
        CASE WHEN r.net_quality = 'bad' THEN r.user_id ELSE p.network_user END AS network_user,
        CASE
            WHEN r.audio_stall = 1 OR r.video_stall = 1 OR r.cannot_hear = 1
                OR r.cannot_see = 1 THEN r.user_id
            ELSE p.media_user
        END AS media_user,
        CASE
            WHEN r.courseware_load_fail = 1 OR r.courseware_out_of_sync = 1
                OR r.cannot_draw = 1 THEN r.user_id
            ELSE p.courseware_user
        END AS courseware_user
    FROM label_rows AS r
    LEFT JOIN triage_role_flags AS p
        ON p.room_id = r.room_id AND p.start_ms = r.start_ms
        AND p.`role` = CASE r.`role` WHEN 'teacher' THEN 'student' WHEN 'student' THEN 'teacher' END
);

-- Help presses with their lateness: behind the help stream's watermark on arrival (contract 0) a
-- press is late and goes to late_events. As for the union, the watermark is its split's (kept in
-- state, so a press behind a later one of its split is late however fast the split was read) or
-- the operator's. A late press is still decided: the joins below are regular joins whose state
-- keeps the evidence, so rt and ads hold the same requests (A.5 names late label messages as the
-- only cause of a difference), e.g. an expired press, late by construction.
CREATE TEMPORARY VIEW help_messages AS
SELECT
    *,
    split_late OR COALESCE(event_at <= CURRENT_WATERMARK(event_at), FALSE) AS is_late,
    CASE
        WHEN split_late THEN TO_TIMESTAMP_LTZ(split_watermark_ms, 3)
        ELSE CURRENT_WATERMARK(event_at)
    END AS watermark_at
FROM (
    SELECT *, client_time <= split_watermark_ms AS split_late
    FROM (
        SELECT
            *,
            MAX(client_time) OVER (
                PARTITION BY source_split ORDER BY arrived_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) - ${LABEL_WATERMARK_DELAY_SECONDS} * 1000 AS split_watermark_ms
        FROM (SELECT *, PROCTIME() AS arrived_at FROM classroom_help_request_clean)
    )
);

INSERT INTO late_events
SELECT
    'help_request_triage',
    DATE_FORMAT(event_at, 'yyyy-MM-dd HH:mm:ss'),
    client_time,
    DATE_FORMAT(watermark_at, 'yyyy-MM-dd HH:mm:ss.SSS'),
    CAST(NULL AS STRING),
    CAST(NULL AS STRING),
    user_id,
    CAST(NULL AS BIGINT),
    CAST(room_id AS STRING),
    `role`,
    CAST(NULL AS INT),
    request_id,
    CAST(NULL AS BIGINT),
    CAST(NULL AS BIGINT),
    source_split,
    CURRENT_TIMESTAMP
FROM help_messages
WHERE is_late;

-- Accounting of the help presses: every accepted message is on time or late (counted + late =
-- accepted), whether first delivery or redelivery.
CREATE TEMPORARY VIEW help_counts AS
SELECT
    'help_request_triage' AS mart,
    COUNT(*) AS events_in,
    COUNT(*) FILTER (WHERE NOT is_late) AS events_counted,
    COUNT(*) FILTER (WHERE is_late) AS events_late,
    MIN(CURRENT_ROW_TIMESTAMP()) AS counting_since
FROM help_messages;

INSERT INTO mart_accounting
SELECT mart, counting_since, events_in, events_counted, events_late, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE help_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');

-- First delivery per request_id: least server_time, then place in the topic; its fields ride in
-- one MIN key (redeliveries are accepted and produce no row).
CREATE TEMPORARY VIEW triage_requests AS
SELECT
    request_id,
    CAST(SPLIT_INDEX(first_delivery, CHR(1), 3) AS DECIMAL(20, 0)) AS room_id,
    CAST(SPLIT_INDEX(first_delivery, CHR(1), 4) AS BIGINT) AS user_id,
    SPLIT_INDEX(first_delivery, CHR(1), 5) AS `role`,
    CAST(SPLIT_INDEX(first_delivery, CHR(1), 6) AS BIGINT) AS client_time,
    CAST(SPLIT_INDEX(first_delivery, CHR(1), 0) AS BIGINT) AS server_time
FROM (
    SELECT
        request_id,
        MIN(CONCAT_WS(CHR(1),
            LPAD(CAST(server_time AS STRING), 19, '0'), source_split,
            LPAD(CAST(COALESCE(source_offset, 0) AS STRING), 19, '0'),
            CAST(room_id AS STRING), CAST(user_id AS STRING), `role`, CAST(client_time AS STRING)
        )) AS first_delivery
    FROM help_messages
    GROUP BY request_id
);

CREATE TEMPORARY VIEW triage_requests_timed AS
SELECT
    *,
    15000 * (FLOOR(client_time / 15000) + 1) AS decided_at
FROM (SELECT request_id, room_id, user_id, `role`, client_time, server_time FROM triage_requests);

CREATE TEMPORARY VIEW triage_requests_windows AS
SELECT
    *,
    30000 * FLOOR(decided_at / 30000) AS evidence_end,
    30000 * CEIL(decided_at / 30000.0) AS verify_start
FROM triage_requests_timed;

-- Pre-check 1: an earlier first delivery of the same room and user within 60 s.
CREATE TEMPORARY VIEW triage_merged AS
SELECT DISTINCT p.request_id
FROM triage_requests AS p
INNER JOIN triage_requests AS q
    ON q.room_id = p.room_id AND q.user_id = p.user_id
    AND q.client_time >= p.client_time - 60000 AND q.client_time < p.client_time;

CREATE TEMPORARY VIEW triage_help_decisions AS
SELECT
    h.request_id, 'help' AS source, h.room_id, h.user_id, h.`role`,
    h.client_time AS request_time, h.server_time AS received_time,
    CAST(h.decided_at AS BIGINT) AS decided_at, CAST(h.evidence_end AS BIGINT) AS evidence_end,
    CAST(h.verify_start AS BIGINT) AS verify_start,
    CASE
        WHEN m.request_id IS NOT NULL THEN 0
        WHEN h.server_time - h.client_time > 60000 THEN -2  -- expired
        WHEN h.`role` = 'fm' OR r.user_id IS NULL THEN -3  -- no evidence
        WHEN r.fm_in_room = 1 THEN -4  -- a supervisor is there
        ELSE r.rule_no
    END AS decision,
    r.user_id AS requester, r.peer_device_user, r.network_user, r.media_user, r.courseware_user,
    w.user_id AS verify_user,
    CASE r.rule_no
        WHEN 1 THEN w.fires_1 WHEN 2 THEN w.fires_2 WHEN 3 THEN w.fires_3 WHEN 4 THEN w.fires_4
        WHEN 5 THEN w.fires_5 WHEN 6 THEN w.fires_6 WHEN 7 THEN w.fires_7
    END AS still_fires
FROM triage_requests_windows AS h
LEFT JOIN triage_merged AS m ON m.request_id = h.request_id
LEFT JOIN triage_rules AS r
    ON r.room_id = h.room_id AND r.user_id = h.user_id AND r.end_ms = h.evidence_end
LEFT JOIN triage_rules AS w
    ON w.room_id = h.room_id AND w.user_id = h.user_id AND w.end_ms = h.verify_start + 30000;

-- The rooms and evidence ends of primary help requests (proactive detection stays away).
CREATE TEMPORARY VIEW triage_help_evidence AS
SELECT DISTINCT room_id, CAST(evidence_end AS BIGINT) AS evidence_end
FROM triage_requests_windows;

-- Proactive detection: the first firing rule is the same at e and e - 30 s but not e - 60 s, no
-- supervisor, and no help request of the room has its evidence at e or e - 30 s.
CREATE TEMPORARY VIEW triage_detected_decisions AS
SELECT
    CONCAT('det:', CAST(x.room_id AS STRING), ':', CAST(x.user_id AS STRING), ':',
        CAST(x.end_ms AS STRING)) AS request_id,
    'detected' AS source, x.room_id, x.user_id, x.`role`,
    x.end_ms AS request_time, x.end_ms AS received_time, x.end_ms AS decided_at,
    x.end_ms AS evidence_end, x.end_ms AS verify_start,
    x.rule_no AS decision,
    x.user_id AS requester, x.peer_device_user, x.network_user, x.media_user, x.courseware_user,
    w.user_id AS verify_user,
    CASE x.rule_no
        WHEN 1 THEN w.fires_1 WHEN 2 THEN w.fires_2 WHEN 3 THEN w.fires_3 WHEN 4 THEN w.fires_4
        WHEN 5 THEN w.fires_5 WHEN 6 THEN w.fires_6 WHEN 7 THEN w.fires_7
    END AS still_fires
FROM triage_rules AS x
INNER JOIN triage_rules AS y
    ON y.room_id = x.room_id AND y.user_id = x.user_id AND y.end_ms = x.end_ms - 30000
    AND y.rule_no = x.rule_no
LEFT JOIN triage_rules AS z
    ON z.room_id = x.room_id AND z.user_id = x.user_id AND z.end_ms = x.end_ms - 60000
    AND z.rule_no = x.rule_no
LEFT JOIN triage_rules AS w
    ON w.room_id = x.room_id AND w.user_id = x.user_id AND w.end_ms = x.end_ms + 30000
-- anti-joins, not NOT EXISTS: a correlated subquery is not decorrelated once the rows meet the
-- dimension lookup downstream
LEFT JOIN triage_help_evidence AS h0
    ON h0.room_id = x.room_id AND h0.evidence_end = x.end_ms
LEFT JOIN triage_help_evidence AS h1
    ON h1.room_id = x.room_id AND h1.evidence_end = x.end_ms - 30000
WHERE x.`role` IN ('teacher', 'student') AND x.rule_no < 8 AND x.fm_in_room = 0
    AND z.user_id IS NULL AND h0.room_id IS NULL AND h1.room_id IS NULL;

-- decision: 0 merged, -2 expired, -3 no evidence, -4 fm present, 1-8 the rule that fired.
CREATE TEMPORARY VIEW triage_rows AS
SELECT
    request_id, source, room_id, user_id, `role`, request_time, received_time, decided_at,
    evidence_end,
    CASE WHEN decision = 0 THEN 'merged' WHEN decision BETWEEN 1 AND 7 THEN 'auto'
        ELSE 'manual' END AS outcome,
    CASE decision
        WHEN 0 THEN 'duplicate' WHEN -2 THEN 'expired' WHEN -3 THEN 'no_evidence'
        WHEN -4 THEN 'fm_present' WHEN 1 THEN 'device' WHEN 2 THEN 'peer_device'
        WHEN 3 THEN 'enter' WHEN 4 THEN 'peer_absent' WHEN 5 THEN 'network'
        WHEN 6 THEN 'media' WHEN 7 THEN 'courseware' ELSE 'uncovered'
    END AS category,
    CASE decision
        WHEN 1 THEN 'guide_device_check' WHEN 2 THEN 'guide_device_check' WHEN 3 THEN 'rejoin'
        WHEN 4 THEN 'call_peer' WHEN 5 THEN 'switch_line' WHEN 6 THEN 'switch_line'
        WHEN 7 THEN 'reload_courseware' ELSE ''
    END AS `action`,
    -- rule 4 calls the requester's tutor, a dimension column (C): set after the lookup below
    COALESCE(CASE decision
        WHEN 1 THEN requester WHEN 2 THEN peer_device_user WHEN 3 THEN requester
        WHEN 5 THEN network_user WHEN 6 THEN media_user WHEN 7 THEN courseware_user
    END, 0) AS target_user_id,
    CASE WHEN decision BETWEEN 1 AND 7 THEN verify_start END AS verify_start,
    CASE
        WHEN decision NOT BETWEEN 1 AND 7 THEN ''
        WHEN verify_user IS NOT NULL AND NOT still_fires THEN 'resolved'
        ELSE 'escalated'
    END AS verify_status,
    CASE WHEN decision = 0 THEN 0 ELSE decided_at - request_time END AS handle_ms
FROM (
    SELECT * FROM triage_help_decisions
    UNION ALL
    SELECT * FROM triage_detected_decisions
);

-- One current row per request_id. The joins above retract and re-insert rows as evidence arrives,
-- and mini-batching may deliver a retraction after the row that replaced it; an aggregate counts
-- them apart, so once all evidence is in each MAX is that of the one remaining row.
CREATE TEMPORARY VIEW triage_current AS
SELECT
    request_id, MAX(source) AS source, MAX(room_id) AS room_id, MAX(user_id) AS user_id,
    MAX(`role`) AS `role`, MAX(request_time) AS request_time,
    MAX(received_time) AS received_time, MAX(decided_at) AS decided_at,
    MAX(evidence_end) AS evidence_end, MAX(outcome) AS outcome, MAX(category) AS category,
    MAX(`action`) AS `action`, MAX(target_user_id) AS target_user_id,
    MAX(verify_start) AS verify_start, MAX(verify_status) AS verify_status,
    MAX(handle_ms) AS handle_ms
FROM triage_rows
GROUP BY request_id;

CREATE TEMPORARY VIEW triage_changes AS
SELECT *, PROCTIME() AS changed_at
FROM TO_CHANGELOG(input => TABLE triage_current);

-- Upsert log as in mart_registrations_hourly_by_level: the greatest version per request_id is
-- the current row; a row a later input replaced is a DELETE (is_deleted = 1).
CREATE TEMPORARY VIEW triage_versions AS
SELECT
    request_id, source, room_id, user_id, `role`, request_time, received_time, decided_at,
    evidence_end, outcome, category, `action`, target_user_id, verify_start, verify_status,
    handle_ms, `version`, is_deleted,
    CASE WHEN `role` = 'student' THEN user_id END AS member_key,
    PROCTIME() AS lookup_time
FROM (
    SELECT
        *,
        CAST(UNIX_TIMESTAMP() AS BIGINT) * 1000000000 + COUNT(*) OVER (
            PARTITION BY request_id ORDER BY changed_at
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS `version`,
        CAST(CASE WHEN op = 'DELETE' THEN 1 ELSE 0 END AS TINYINT) AS is_deleted
    FROM triage_changes
)
WHERE op <> 'UPDATE_BEFORE';

-- Enrichment (C) of each version, at request_time, as the label rows.
CREATE TEMPORARY VIEW triage_enriched AS
-- the lookups' input hashed by their keys (FLIP-204): a key is cached by one subtask only
SELECT
    /*+ LOOKUP('table'='d', 'shuffle'='true'), LOOKUP('table'='m', 'shuffle'='true') */
    t.*,
    CASE
        WHEN d.lookup_status <> 'ok' OR m.lookup_status <> 'ok' THEN 'lookup_timeout'
        WHEN d.lookup_status IS NULL THEN 'room_unknown'
        -- a member of the room's lesson (the membership lookup returns the student's greatest one)
        WHEN t.`role` = 'student' AND (m.lookup_status IS NULL OR m.lesson_id <> d.lesson_id)
            THEN 'member_unknown'
        ELSE 'ok'
    END AS dim_status,
    d.lesson_id AS room_lesson_id, d.lesson_date AS room_lesson_date, d.room_role AS room_role_found,
    d.expected_members AS room_expected_members, d.tutor_id AS room_tutor_id,
    d.scope_node_id AS room_scope_node_id, d.run_id AS room_run_id,
    m.tutor_id AS member_tutor_id, m.class_id AS member_class_id,
    m.group_node_id AS member_group_node_id
FROM triage_versions AS t
LEFT JOIN dim_live_room FOR SYSTEM_TIME AS OF t.lookup_time AS d
    ON d.room_id = t.room_id
LEFT JOIN dim_room_membership FOR SYSTEM_TIME AS OF t.lookup_time AS m
    ON m.room_id = t.room_id AND m.student_id = t.member_key;

CREATE TEMPORARY VIEW triage_dimensions AS
SELECT
    *,
    CASE
        WHEN dim_status = 'ok' AND `role` = 'student' THEN member_tutor_id
        WHEN dim_status IN ('ok', 'member_unknown') THEN room_tutor_id
        ELSE 0
    END AS tutor_id
FROM triage_enriched;

INSERT INTO help_request_triage
SELECT
    request_id, source, room_id, user_id, `role`, request_time, received_time, decided_at,
    evidence_end, outcome, category, `action`,
    -- rule 4 (peer_absent) calls the requester's tutor when a student asks, else nobody
    CASE
        WHEN category = 'peer_absent' THEN IF(`role` = 'student', tutor_id, 0)
        ELSE target_user_id
    END,
    verify_start, verify_status, handle_ms, `version`, is_deleted,
    IF(dim_status IN ('ok', 'member_unknown'), room_lesson_id, 0),
    IF(dim_status IN ('ok', 'member_unknown'), room_lesson_date,
        CAST(TO_TIMESTAMP_LTZ(request_time, 3) AS DATE)),
    IF(dim_status IN ('ok', 'member_unknown'), room_role_found, ''),
    IF(dim_status IN ('ok', 'member_unknown'), room_expected_members, 0),
    tutor_id,
    IF(dim_status = 'ok' AND `role` = 'student', member_class_id, 0),
    CASE
        WHEN dim_status = 'ok' AND `role` = 'student' THEN member_group_node_id
        WHEN dim_status IN ('ok', 'member_unknown') THEN room_scope_node_id
        ELSE 0
    END,
    IF(dim_status IN ('ok', 'member_unknown'), room_run_id, 0),
    dim_status,
    CURRENT_TIMESTAMP
FROM triage_dimensions;
