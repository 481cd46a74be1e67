-- Distinct registered students per registration hour and channel level, offline.
-- Grain: reg_hour x level. Contract: registrations_hourly_by_level (latest versions, NORMAL users,
-- test accounts excluded, students without a user not counted, unknown level = 'other').
{{ config(order_by='(reg_hour, level)') }}

select
    reg_hour,
    level,
    uniqExact(student_id) as leads
from {{ ref('registrations') }}
where is_counted
group by reg_hour, level
