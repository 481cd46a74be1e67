-- Problem labels per room, user and 30-second tumbling window of client_time: the union of the
-- enter, av, device and courseware streams (seed 000's multi-stream union). Grain: room x user x
-- window with >= 1 message; insert-only. Rules: LIVE_CLASSROOM_CONTRACT.md A.2 and A.3.

-- One shape for the four topics: each message says what it contributes to the label rules. The
-- union's watermark is the least of its inputs' (Flink union), so lateness is judged after it.
-- order_key sorts messages as "latest" does (client_time, server_time, topic, place in it).
CREATE TEMPORARY VIEW label_messages AS
SELECT
    *,
    COALESCE(event_at <= CURRENT_WATERMARK(event_at), FALSE) AS is_late,
    CURRENT_WATERMARK(event_at) AS watermark_at,
    CONCAT(
        LPAD(CAST(client_time AS STRING), 19, '0'), LPAD(CAST(server_time AS STRING), 19, '0'),
        CAST(topic_rank AS STRING), source_split, CHR(0),
        LPAD(CAST(COALESCE(source_offset, 0) AS STRING), 19, '0')
    ) AS order_key
FROM (
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
    FROM classroom_courseware_event_clean
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
    CURRENT_TIMESTAMP
FROM label_rows;

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
    COUNT(*) FILTER (WHERE is_late) AS events_late
FROM label_messages;

-- Counts only grow, so the newest row is the one with the most events_in.
INSERT INTO mart_accounting
SELECT mart, events_in, events_counted, events_late, CURRENT_TIMESTAMP
FROM TO_CHANGELOG(input => TABLE label_counts)
WHERE op IN ('INSERT', 'UPDATE_AFTER');
