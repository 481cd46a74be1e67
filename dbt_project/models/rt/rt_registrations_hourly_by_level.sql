-- Real-time registrations per hour and level: the upsert log resolved (latest version per key,
-- retracted keys gone). Grain and columns as ads.registrations_hourly_by_level.
{{ config(alias='registrations_hourly_by_level') }}

select reg_hour, level, leads
from {{ source('rt', 'registrations_hourly_by_level_log') }} final
