-- Confirmed orders per course consultant and confirm day, offline.
-- Grain: cc_id x type x attribution_date. Contract: cc_daily_tracking (latest version of each
-- order; status 3 and confirm_date_time not null). update_time = greatest of the counted orders.
{{ config(order_by='(cc_id, type, attribution_date)') }}

select
    cc_id,
    count() as cc_index,
    toInt32(1) as type,
    toDate(assumeNotNull(confirmed_at)) as attribution_date,
    max(update_time) as update_time
from {{ ref('cc_orders') }}
where is_tracked
group by cc_id, attribution_date
