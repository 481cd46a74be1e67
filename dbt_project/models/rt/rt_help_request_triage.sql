-- Real-time help triage: the upsert log resolved (latest version per request_id, retractions
-- gone). Grain and columns as ads.help_request_triage (LIVE_CLASSROOM_CONTRACT.md A.5).
{{ config(alias='help_request_triage') }}

select
    request_id, source, room_id, user_id, role, request_time, received_time, decided_at,
    evidence_end, outcome, category, action, target_user_id, verify_start, verify_status,
    handle_ms,
    lesson_id, lesson_date, room_role, expected_members, tutor_id, class_id, org_node_id, dim_run_id, dim_status
from {{ source('rt', 'help_request_triage_log') }} final
