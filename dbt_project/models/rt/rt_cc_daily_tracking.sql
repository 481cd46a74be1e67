-- Real-time consultant tracking: the upsert log resolved (latest version per key, retractions
-- gone). Grain and columns as ads.cc_daily_tracking.
{{ config(alias='cc_daily_tracking') }}

select cc_id, cc_index, type, attribution_date, update_time
from {{ source('rt', 'cc_daily_tracking_log') }} final
