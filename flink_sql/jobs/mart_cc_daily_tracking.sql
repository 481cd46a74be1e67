-- Course-consultant daily tracking: confirmed orders (latest version: status 3, confirm time set)
-- per consultant and confirmation day. Grain: cc_id x type (1) x attribution_date; an upsert log.
-- Rule: DATA_CONTRACT.md cc_daily_tracking (seed scene 4, but the latest version by update_time
-- instead of the seed's last-arrived LAST_VALUE).

-- Latest version per order id: greatest update_time, ties to the later message (later split, then
-- the later position in it). latest_value (flink_sql/functions.sql, jvm/udf Latest.java) keeps the
-- fields of the greatest (update_time, split, message_seq) in place of a padded text key under MAX
-- (no key string built per message, and a NULL confirm_date_time comes back as NULL, no marker).
-- The order is exact: update_time is a checked YYYY-MM-DD HH:MM:SS, so its digits as a BIGINT sort
-- as the text does, with no time zone involved (the two unused order keys are constants), and
-- (split, message_seq) is unique per message, so the three picks below are of one version. A
-- ROW_NUMBER() top-1 would be the usual form, but Flink 2.3 plans a top-1 Rank feeding an
-- aggregate without retraction (COUNT would keep the versions that a later one replaced); an
-- aggregate feeding an aggregate is exact.
create temporary view order_versions as
select
    id, update_time, cc_id, `status`, confirm_date_time, source_split, message_seq,
    cast(
        replace(replace(replace(update_time, '-', ''), ' ', ''), ':', '') as bigint
    ) as update_digits
from data_pack_order_info_clean;

create temporary view latest_orders as
select
    cast(latest_value(
        cast(cc_id as string), update_digits, 0, 0, source_split, message_seq
    ) as bigint) as cc_id,
    cast(latest_value(
        cast(`status` as string), update_digits, 0, 0, source_split, message_seq
    ) as int) as `status`,
    latest_value(
        confirm_date_time, update_digits, 0, 0, source_split, message_seq
    ) as confirm_date_time,
    max(update_time) as update_time
from order_versions
group by id;

-- confirm_date_time is a business-time-zone string: its date part is the attribution day.
create temporary view cc_confirmations as
select
    cc_id,
    substr(confirm_date_time, 1, 10) as attribution_date,
    count(*) as cc_index,
    max(update_time) as update_time
from latest_orders
where `status` = 3 and confirm_date_time is not NULL
group by cc_id, substr(confirm_date_time, 1, 10);

-- Upsert log as in mart_registrations_hourly_by_level: latest value per key by version, a
-- consultant day whose last order moved away is a DELETE (is_deleted = 1).
create temporary view cc_changes as
select cc_id, attribution_date, cc_index, update_time, op, proctime() as changed_at
from TO_CHANGELOG(input => table cc_confirmations);

insert into cc_daily_tracking
select cc_id, cc_index, 1, attribution_date, update_time, `version`, is_deleted, current_timestamp
from (
    select
        cc_id, cc_index, attribution_date, update_time, op,
        cast(unix_timestamp() as bigint) * 1000000000 + count(*) over (
            partition by cc_id, attribution_date order by changed_at
            rows between unbounded preceding and current row
        ) as `version`,
        cast(case when op = 'DELETE' then 1 else 0 end as tinyint) as is_deleted
    from cc_changes
)
where op <> 'UPDATE_BEFORE';
