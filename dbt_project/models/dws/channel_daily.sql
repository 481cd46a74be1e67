-- Daily summary per acquisition channel: registrations by outcome (counted, test, not NORMAL).
-- Grain: register_date x channel_id.
{{ config(order_by='(register_date, channel_id)') }}

select
    register_date,
    channel_id,
    any(level) as level,
    countIf(is_counted) as registrations,
    countIf(is_test_account) as test_accounts,
    countIf(user_status != 'NORMAL') as not_normal,
    count() as students
from {{ ref('registrations') }}
group by register_date, channel_id
