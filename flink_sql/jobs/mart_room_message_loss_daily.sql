-- Message gaps and losses per business day, room, user and terminal from the clients' push
-- reports. Grain: day x bid x room_id x uid x terminal; an upsert log (greatest version wins).
-- Rule: LIVE_CLASSROOM_CONTRACT.md B.3 room_message_loss_daily (seed 002: msgids re-pulled).

-- One row per (report, missing msgid); a report with an empty list keeps one row (msgid NULL).
-- A report is counted on exactly one of its rows: the empty one, or the one of its first missing
-- msgid (the cleaning rejects lists with repeats). A COUNT(DISTINCT message_key) would keep every
-- report's key of the day in state (30 a minute per user at one report every 2 s). The gap is the
-- number of distinct msgids (only the missing ones are kept).
CREATE TEMPORARY VIEW push_ack_msgids AS
SELECT
    DATE_FORMAT(TO_TIMESTAMP_LTZ(ack.server_time, 3), 'yyyy-MM-dd') AS `day`,
    ack.bid, ack.room_id, ack.uid, ack.terminal, ack.max_msgid, missing.msgid,
    missing.msgid IS NULL OR missing.msgid = ack.missing_msgids[1] AS is_report_row,
    -- the latest report (greatest server_time, then the later message: split, position) rides in
    -- one sortable key whose MAX carries its missing count, as in mart_cc_daily_tracking
    CONCAT(
        LPAD(CAST(ack.server_time AS STRING), 19, '0'), CHR(0),
        ack.source_split, CHR(0),
        LPAD(CAST(ack.message_seq AS STRING), 19, '0'), CHR(0),
        CAST(ack.missing_count AS STRING)
    ) AS report_version
FROM room_push_ack_clean AS ack
LEFT JOIN UNNEST(ack.missing_msgids) AS missing (msgid) ON TRUE;

CREATE TEMPORARY VIEW message_loss_days AS
SELECT
    `day`, bid, room_id, uid, terminal,
    COUNT(*) FILTER (WHERE is_report_row) AS reports,
    MAX(max_msgid) AS max_msgid,
    COUNT(DISTINCT msgid) AS gap_msgids,
    CAST(SPLIT_INDEX(MAX(report_version), CHR(0), 3) AS BIGINT) AS lost_msgids
FROM push_ack_msgids
GROUP BY `day`, bid, room_id, uid, terminal;

-- Upsert log as in mart_cc_daily_tracking: a version per change of a key.
CREATE TEMPORARY VIEW message_loss_changes AS
SELECT *, PROCTIME() AS changed_at
FROM TO_CHANGELOG(input => TABLE message_loss_days);

INSERT INTO room_message_loss_daily
SELECT
    `day`, bid, room_id, uid, terminal, reports, max_msgid, gap_msgids, lost_msgids,
    CASE WHEN max_msgid = 0 THEN 0E0 ELSE CAST(gap_msgids AS DOUBLE) / max_msgid END,
    CASE WHEN max_msgid = 0 THEN 0E0 ELSE CAST(lost_msgids AS DOUBLE) / max_msgid END,
    `version`, is_deleted, CURRENT_TIMESTAMP
FROM (
    SELECT
        `day`, bid, room_id, uid, terminal, reports, max_msgid, gap_msgids, lost_msgids, op,
        CAST(UNIX_TIMESTAMP() AS BIGINT) * 1000000000 + COUNT(*) OVER (
            PARTITION BY `day`, bid, room_id, uid, terminal ORDER BY changed_at
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS `version`,
        CAST(CASE WHEN op = 'DELETE' THEN 1 ELSE 0 END AS TINYINT) AS is_deleted
    FROM message_loss_changes
)
WHERE op <> 'UPDATE_BEFORE';
