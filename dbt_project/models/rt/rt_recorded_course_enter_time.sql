-- Real-time recorded-course enter time, one row per PPT_SUCCESS (re-deliveries resolved).
-- Grain and columns as ads.recorded_course_enter_time.
{{ config(alias='recorded_course_enter_time') }}

select user_id, classroom_id, user_type, spend_time, event_time, create_time
from {{ source('rt', 'recorded_course_enter_time_log') }} final
