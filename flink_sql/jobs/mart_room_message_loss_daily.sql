-- Message gaps and losses per business day, room, user and terminal from the clients' push
-- reports. Grain: day x bid x room_id x uid x terminal; an upsert log (greatest version wins).
-- Rule: LIVE_CLASSROOM_CONTRACT.md B.3 room_message_loss_daily (seed 002: msgids re-pulled).

-- One row per (report, missing msgid); a report with an empty list keeps one row (msgid NULL).
-- A report is counted on exactly one of its rows: the empty one, or the one of its first missing
-- msgid (the cleaning rejects lists with repeats). A COUNT(DISTINCT message_key) would keep every
-- report's key of the day in state (30 a minute per user at one report every 2 s). The gap is the
-- number of distinct msgids (only the missing ones are kept).
create temporary view push_ack_msgids as
select
    date_format(to_timestamp_ltz(ack.server_time, 3), 'yyyy-MM-dd') as `day`,
    ack.bid, ack.room_id, ack.uid, ack.terminal, ack.max_msgid, missing.msgid,
    missing.msgid is NULL or missing.msgid = ack.missing_msgids[1] as is_report_row,
    ack.server_time, ack.source_split, ack.message_seq, ack.missing_count
from room_push_ack_clean as ack
left join unnest(ack.missing_msgids) as missing (msgid) on TRUE;

-- rows_read (the rows of the key read so far) grows with every row, so each change of a key
-- carries a greater count than the one before: the version is the second it was written plus
-- that count (a restart's second is later), with no per-key state besides the aggregate's.
create temporary view message_loss_days as
select
    `day`, bid, room_id, uid, terminal,
    count(*) filter (where is_report_row) as reports,
    max(max_msgid) as max_msgid,
    count(distinct msgid) as gap_msgids,
    -- the latest report's missing count: greatest server_time, then the later message (split,
    -- position), by latest_value (flink_sql/functions.sql) as in mart_cc_daily_tracking; the
    -- rows of one report share its order and its count, so their ties pick the same value
    cast(latest_value(
        cast(missing_count as string), server_time, 0, 0, source_split, message_seq
    ) as bigint) as lost_msgids,
    count(*) as rows_read
from push_ack_msgids
group by `day`, bid, room_id, uid, terminal;

-- Upsert log: every change of a key as a row (its new values), versioned as above.
insert into room_message_loss_daily
select
    `day`, bid, room_id, uid, terminal, reports, max_msgid, gap_msgids, lost_msgids,
    case when max_msgid = 0 then 0E0 else cast(gap_msgids as double) / max_msgid end,
    case when max_msgid = 0 then 0E0 else cast(lost_msgids as double) / max_msgid end,
    cast(unix_timestamp() as bigint) * 1000000000 + rows_read,
    cast(case when op = 'DELETE' then 1 else 0 end as tinyint),
    current_timestamp
from TO_CHANGELOG(input => table message_loss_days)
where op <> 'UPDATE_BEFORE';
