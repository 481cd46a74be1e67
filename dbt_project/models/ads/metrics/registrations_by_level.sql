-- New counted registrations per level and day.
{{ metric(
    description='Distinct counted registrations (NORMAL, not test) per channel level',
    owner='growth', grain='day x level', unit='students', min=0, max=10000000,
) }}

select register_date as metric_date, level as dimension, sum(leads) as value
from {{ ref('registrations_daily_by_level_channel') }}
group by register_date, level
