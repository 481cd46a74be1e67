-- Registrations per day, level and channel: the view behind "which channels bring which levels".
-- Grain: register_date x level x channel_id. Same counting rule as registrations_hourly_by_level.
{{ config(order_by='(register_date, level, channel_id)') }}

select
    r.register_date as register_date,
    r.level as level,
    r.channel_id as channel_id,
    any(c.english_name) as channel_name,
    uniqExact(r.student_id) as leads
from {{ ref('registrations') }} as r
left join {{ ref('channels') }} as c on c.channel_id = r.channel_id
where r.is_counted
group by register_date, level, channel_id
