-- Classified student courseware events with typed times (late events included).
-- Grain: one row per event. Source: ods.timeline_analysis_student (contract: timeline_client_topic).
{{ daily_incremental_config('(event_date, room_id, user_id, event_at)') }}

select
    toDate({{ epoch_ms_to_business('messageTimeStamp') }}) as event_date,
    {{ epoch_ms_to_business('messageTimeStamp') }} as event_at,
    {{ epoch_ms_to_business('messageCreateTime') }} as received_at,
    userId as user_id,
    roomId as room_id,
    role,
    msgId as msg_id,
    msgType as msg_type,
    targetId as target_id,
    targetType as target_type,
    action,
    subAction as sub_action,
    pageIndex as page_index,
    event,
    ingestedAt as ingested_at,
    processedAt as processed_at,
    landed_at
from {{ source('ods', 'timeline_analysis_student') }}
where {{ for_run_date("toDate(" ~ epoch_ms_to_business('messageTimeStamp') ~ ")") }}
