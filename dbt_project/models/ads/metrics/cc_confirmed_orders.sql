-- Orders a course consultant got confirmed (tracked: status 3 with a confirm time), per day.
{{ metric(
    description='Tracked orders (latest version status 3, confirmed) per consultant and confirm day',
    owner='sales-operations', grain='day x consultant', unit='orders', min=0, max=100000,
) }}

select confirm_date as metric_date, toString(cc_id) as dimension, tracked_orders as value
from {{ ref('consultant_daily') }}
where tracked_orders > 0
