-- Recorded-course client log events with typed times.
-- Grain: one row per valid qos_log message. Source: ods.qos_log_clean (contract: qos_log).
{{ daily_incremental_config('(event_date, user_id, classroom_id, data_time)') }}

select
    toDate({{ epoch_ms_to_business('data_time') }}) as event_date,
    user_id,
    classroom_id,
    user_type,
    sub_event,
    event_time,
    data_time,
    ppt_index,
    ingested_at,
    processed_at,
    landed_at
from {{ source('ods', 'qos_log_clean') }}
where {{ for_run_date("toDate(" ~ epoch_ms_to_business('data_time') ~ ")") }}
