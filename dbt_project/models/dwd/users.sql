-- Accounts, latest snapshot version each, with the test-account rule applied.
-- Grain: one row per user id. Contract: uc_account-user; registrations rule (test accounts).
{{ config(order_by='user_id') }}

select
    id as user_id,
    name,
    register_date_time,
    {{ parse_business_datetime('register_date_time') }} as registered_at,
    status,
    latest_update_time as update_time,
    versions,
    -- Case-sensitive: '测试' or 'test' anywhere, or a 'DM_' prefix.
    (position(name, '测试') > 0 or position(name, 'test') > 0 or startsWith(name, 'DM_')) as is_test_account
from ({{ latest_version(source('ods', 'uc_account_user_clean'), 'id', ['name', 'register_date_time', 'status'], datetimes=['register_date_time']) }})
