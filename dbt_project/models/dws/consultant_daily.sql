-- Daily summary per course consultant: orders confirmed that day (latest order versions).
-- Grain: confirm_date x cc_id.
{{ config(order_by='(confirm_date, cc_id)') }}

select
    toDate(assumeNotNull(confirmed_at)) as confirm_date,
    cc_id,
    countIf(is_tracked) as tracked_orders,
    count() as confirmed_orders,
    uniqExact(student_id) as students,
    max(update_time) as last_update_time
from {{ ref('cc_orders') }}
where confirmed_at is not null
group by confirm_date, cc_id
