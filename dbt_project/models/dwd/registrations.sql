-- Registered students with their account, channel and level resolved (latest versions).
-- Grain: one row per student with a matching user. Contract: registrations_hourly_by_level rule.
{{ config(order_by='student_id') }}

select
    s.student_id as student_id,
    u.register_date_time as register_date_time,
    -- users holds valid datetimes only (macros/latest_version.sql): no parse can fail here
    toUInt32(toYYYYMMDD(assumeNotNull(u.registered_at)) * 100 + toHour(assumeNotNull(u.registered_at))) as reg_hour,
    toDate(assumeNotNull(u.registered_at)) as register_date,
    u.status as user_status,
    u.is_test_account as is_test_account,
    s.channel_id as channel_id,
    c.channel_id != '' as has_channel,
    -- No matching channel, or a level outside A-D, counts as 'other'.
    cast(if(c.level in ('A', 'B', 'C', 'D'), c.level, 'other') as LowCardinality(String)) as level,
    (u.status = 'NORMAL' and not u.is_test_account) as is_counted
from {{ ref('students') }} as s
inner join {{ ref('users') }} as u on u.user_id = s.student_id
left join {{ ref('channels') }} as c on c.channel_id = s.channel_id
