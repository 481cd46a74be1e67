-- Flat audio/video samples of what a user receives: one row per valid `classroom_av_sample` message, written by
-- clean_classroom_av_sample; read back with an event-time watermark (only natural events reach it).
-- role: label_input
apply template classroom_message_table (table = 'classroom_av_sample_clean', columns = '
    media            STRING,  -- audio | video
    interval_ms      BIGINT,  -- span covered
    bitrate_kbps     BIGINT,
    freeze_ms        BIGINT,
    loss_pct         BIGINT,
    rtt_ms           BIGINT,
');
