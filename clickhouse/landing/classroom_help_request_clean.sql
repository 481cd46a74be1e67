-- topic: classroom_help_request_clean
-- grain: one row per valid help-button press, redeliveries included (cleaned by Flink job clean_classroom_help_request)
create table if not exists ods.classroom_help_request_clean
(
    -- include: classroom_message
    request_id String,
    -- include: cleaned
)
-- include: classroom_message_storage
