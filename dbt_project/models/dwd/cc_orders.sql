-- Course-consultant orders, latest version each (contract: data_pack_order_info, snapshot rule).
-- Grain: one row per order id (the message `id`).
{{ config(order_by='order_record_id') }}

select
    id as order_record_id,
    cc_id,
    student_id,
    order_id,
    leads_id,
    status,
    confirm_date_time,
    {{ parse_business_datetime('confirm_date_time') }} as confirmed_at,
    create_time,
    latest_update_time as update_time,
    versions,
    (status = 3 and confirmed_at is not null) as is_tracked
from ({{ latest_version(source('ods', 'data_pack_order_info_clean'), 'id', ['cc_id', 'student_id', 'order_id', 'leads_id', 'status', 'confirm_date_time', 'create_time'],
    datetimes=['confirm_date_time']) }})
