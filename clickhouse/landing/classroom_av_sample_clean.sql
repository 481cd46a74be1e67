-- topic: classroom_av_sample_clean
-- grain: one row per valid audio or video sample (cleaned by Flink job clean_classroom_av_sample)
create table if not exists ods.classroom_av_sample_clean
(
    -- include: classroom_message
    media LowCardinality(String),
    interval_ms Int64,
    bitrate_kbps Int64,
    freeze_ms Int64,
    loss_pct Int64,
    rtt_ms Int64,
    -- include: cleaned
)
-- include: classroom_message_storage
