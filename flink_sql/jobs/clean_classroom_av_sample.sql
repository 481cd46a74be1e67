-- Cleans what a user receives, audio and video samples (classroom_av_sample), into
-- classroom_av_sample_clean. Grain: one row per valid sample; rejected messages go to
-- rejected_messages, counts to topic_accounting. Rules: LIVE_CLASSROOM_CONTRACT.md 0, A.1 ("av").

-- The checks of a classroom message and its clean row (flink_sql/templates/
-- classroom_message_checked.sql): the envelope every topic shares, then its own columns, fields
-- and rules.
apply template classroom_message_checked (
    view = 'av_checked', source = 'classroom_av_sample',
    columns = 'media, interval_ms, bitrate_kbps, freeze_ms, loss_pct, rtt_ms',
    parse = '
        media        STRING   media        NOT NULL,
        interval_ms  BIGINT   interval_ms  NOT NULL,
        bitrate_kbps BIGINT   bitrate_kbps NOT NULL,
        freeze_ms    BIGINT   freeze_ms    NOT NULL,
        loss_pct     BIGINT   loss_pct     NOT NULL,
        rtt_ms       BIGINT   rtt_ms       NOT NULL',
    checks = $$
        parsed.media in ('audio', 'video')
        and parsed.interval_ms between 1 and 999999999999999999
        and parsed.bitrate_kbps between 0 and 999999999999999999
        and parsed.freeze_ms between 0 and parsed.interval_ms
        and parsed.loss_pct between 0 and 100
        and parsed.rtt_ms between 0 and 999999999999999999
    $$
);

-- Rejected messages to rejected_messages, counts per source split to topic_accounting.
apply template route_checked_messages (topic = 'classroom_av_sample', checked = 'av_checked');
