-- Students, latest snapshot version each (contract: uc_account-student, snapshot rule).
-- Grain: one row per student id.
{{ config(order_by='student_id') }}

select
    id as student_id,
    channel_id,
    latest_update_time as update_time,
    versions
from ({{ latest_version(source('ods', 'uc_account_student_clean'), 'id', ['channel_id']) }})
