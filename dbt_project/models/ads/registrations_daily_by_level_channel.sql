-- Registrations per day, level and channel: the view behind "which channels bring which levels".
-- Grain: register_date x level x channel_id. Same counting rule as registrations_hourly_by_level.
{{ config(order_by='(register_date, level, channel_id)') }}

select
    registrations.register_date as register_date,
    registrations.level as level,
    registrations.channel_id as channel_id,
    any(channels.english_name) as channel_name,
    uniqExact(registrations.student_id) as leads
from {{ ref('registrations') }} as registrations
left join {{ ref('channels') }} as channels on channels.channel_id = registrations.channel_id
where registrations.is_counted
group by register_date, level, channel_id
