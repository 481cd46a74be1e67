-- Course-consultant daily tracking: confirmed orders (latest version: status 3, confirm time set)
-- per consultant and confirmation day. Grain: cc_id x type (1) x attribution_date; an upsert log.
-- Rule: DATA_CONTRACT.md cc_daily_tracking (seed scene 4, but the latest version by update_time
-- instead of the seed's last-arrived LAST_VALUE).

-- Latest version per order id: greatest update_time, ties to the later message (later split, then
-- the later position in it). The version's fields ride in one key whose MAX picks them together
-- (CHR(0) separators keep the tuple order of the leading fields). A ROW_NUMBER() top-1 would be the
-- usual form, but Flink 2.3 plans a top-1 Rank feeding an aggregate without retraction (MAX and
-- COUNT keep the versions that a later version replaced); an aggregate feeding an aggregate is
-- exact.
create temporary view latest_orders as
select
    cast(version_fields[4] as bigint) as cc_id,
    cast(version_fields[5] as int) as `status`,
    -- '+' marks a confirm_date_time that is set, '-' one that is null
    case
        when version_fields[6] like '+%' then substr(version_fields[6], 2)
    end as confirm_date_time,
    version_fields[1] as update_time
from (
    select
        id,
        split(max(concat(
            update_time, chr(0),
            source_split, chr(0),
            lpad(cast(message_seq as string), 19, '0'), chr(0),
            cast(cc_id as string), chr(0),
            cast(`status` as string), chr(0),
            coalesce(concat('+', confirm_date_time), '-')
        )), chr(0)) as version_fields
    from data_pack_order_info_clean
    group by id
);

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
