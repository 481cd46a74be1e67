-- Audio/video quality records with typed times and the contract's null substitutes.
-- Grain: one row per valid agora_record message. Source: ods.agora_record_clean (contract: agora_record).
{{ daily_incremental_config('(event_date, classroom_id, user_id, event_at)') }}

select
    toDate({{ epoch_ms_to_business('message_create_time') }}) as event_date,
    {{ epoch_ms_to_business('message_create_time') }} as event_at,
    coalesce(user_id, -1) as user_id,
    coalesce(agora_channel_id, -1) as web_server_id,
    coalesce(classroom_id, '-1') as classroom_id,
    user_type,
    event,
    video_fr,
    video_uid,
    audio_lost,
    audio_uid,
    ingested_at,
    processed_at,
    landed_at
from {{ source('ods', 'agora_record_clean') }}
where {{ for_run_date("toDate(" ~ epoch_ms_to_business('message_create_time') ~ ")") }}
