-- Channel dictionary, latest version each (contract: channel dictionary, snapshot rule).
-- Grain: one row per channel id.
{{ config(order_by='channel_id') }}

select
    id as channel_id,
    chinese_name,
    english_name,
    level,
    pid as parent_channel_id,
    dept_id,
    latest_update_time as update_time,
    versions
from ({{ latest_version(source('ods', 'channel_name_dictionary_clean'), 'id', ['chinese_name', 'english_name', 'level', 'pid', 'dept_id']) }})
