-- Flat device samples (microphone, speaker, camera, CPU): one row per valid `classroom_device_sample` message, written by
-- clean_classroom_device_sample; read back with an event-time watermark (only natural events reach it).
-- role: label_input
apply template classroom_message_table (table = 'classroom_device_sample_clean', columns = '
    mic              STRING,  -- ok | missing | denied | error
    speaker          STRING,
    camera           STRING,
    cpu_pct          BIGINT,
');
