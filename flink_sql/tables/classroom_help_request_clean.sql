-- Flat help-button presses: one row per valid `classroom_help_request` message, written by
-- clean_classroom_help_request; read back with an event-time watermark (only natural events reach it).
-- role: label_input
apply template classroom_message_table (table = 'classroom_help_request_clean', columns = '
    request_id       STRING,
');
