-- Counted registrations per registration day, hour of day and channel level: the contract mart
-- registrations_hourly_by_level with its yyyymmddhh key decoded, for trends over days.
-- Grain: reg_date x reg_hour_of_day x level. Source: ads.registrations_hourly_by_level.
{{ config(order_by='(reg_date, reg_hour_of_day, level)') }}

select
    {{ reg_hour_date('reg_hour') }} as reg_date,
    toUInt8(reg_hour % 100) as reg_hour_of_day,
    reg_hour,
    level,
    toUInt64(sum(leads)) as leads
from {{ ref('registrations_hourly_by_level') }}
group by reg_hour, level
