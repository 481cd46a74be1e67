-- Registrations per hour and level: distinct students by the latest version of each student, user
-- and channel; user status NORMAL, test accounts excluded, students without a user not counted.
-- Grain: reg_hour (YYYYMMDDHH of register_date_time) x level (A-D or 'other'); an upsert log. Rule:
-- DATA_CONTRACT.md registrations_hourly_by_level (seed scene 4, latest version by update_time).

-- Latest version per id (flink_sql/templates/latest_version.sql).
apply template latest_version (
    view = 'latest_students', source = 'uc_account_student_clean', columns = 'id, channel_id'
);

apply template latest_version (
    view = 'latest_users', source = 'uc_account_user_clean',
    columns = 'id, `name`, register_date_time, `status`'
);

apply template latest_version (
    view = 'latest_channels', source = 'channel_name_dictionary_clean', columns = 'id, `level`'
);

-- register_date_time is a business-time-zone string, so its hour bucket is a plain reformat.
create temporary view registration_leads as
select
    cast(DATE_FORMAT(users.register_date_time, 'yyyyMMddHH') as int) as reg_hour,
    case when channels.`level` in ('A', 'B', 'C', 'D') then channels.`level` else 'other' end as `level`,
    COUNT(distinct students.id) as leads
from latest_students as students
join latest_users as users on users.id = students.id
left join latest_channels as channels on channels.id = students.channel_id
where users.`status` = 'NORMAL'
    and users.`name` not like '%测试%'
    and users.`name` not like '%test%'
    and users.`name` not like 'DM!_%' escape '!'
group by
    cast(DATE_FORMAT(users.register_date_time, 'yyyyMMddHH') as int),
    case when channels.`level` in ('A', 'B', 'C', 'D') then channels.`level` else 'other' end;

-- The aggregate updates as versions arrive. TO_CHANGELOG turns it into an append-only log: every
-- current value (INSERT / UPDATE_AFTER) and every vanished key (DELETE, is_deleted = 1) with a
-- version that grows per key (emission second * 1e9 + the key's change count), so a
-- ReplacingMergeTree(version, is_deleted) ordered by the key keeps exactly the latest value.
create temporary view registration_changes as
select reg_hour, `level`, leads, op, PROCTIME() as changed_at
from TO_CHANGELOG(input => table registration_leads);

insert into registrations_hourly_by_level
select reg_hour, `level`, leads, `version`, is_deleted, current_timestamp
from (
    select
        reg_hour, `level`, leads, op,
        cast(UNIX_TIMESTAMP() as bigint) * 1000000000 + COUNT(*) OVER (
            partition by reg_hour, `level` order by changed_at
            rows between unbounded preceding and current row
        ) as `version`,
        cast(case when op = 'DELETE' then 1 else 0 end as tinyint) as is_deleted
    from registration_changes
)
where op <> 'UPDATE_BEFORE';
