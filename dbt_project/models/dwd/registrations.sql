-- Registered students with their account, channel and level resolved (latest versions).
-- Grain: one row per student with a matching user. Contract: registrations_hourly_by_level rule.
{{ config(order_by='student_id') }}

select
    students.student_id as student_id,
    users.register_date_time as register_date_time,
    -- users holds valid datetimes only (macros/latest_version.sql): no parse can fail here
    toUInt32(toYYYYMMDD(assumeNotNull(users.registered_at)) * 100 + toHour(assumeNotNull(users.registered_at))) as reg_hour,
    toDate(assumeNotNull(users.registered_at)) as register_date,
    users.status as user_status,
    users.is_test_account as is_test_account,
    students.channel_id as channel_id,
    channels.channel_id != '' as has_channel,
    -- No matching channel, or a level outside A-D, counts as 'other'.
    cast(if(channels.level in ('A', 'B', 'C', 'D'), channels.level, 'other') as LowCardinality(String)) as level,
    (users.status = 'NORMAL' and not users.is_test_account) as is_counted
from {{ ref('students') }} as students
inner join {{ ref('users') }} as users on users.user_id = students.student_id
left join {{ ref('channels') }} as channels on channels.channel_id = students.channel_id
