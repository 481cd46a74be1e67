-- Mart: confirmed orders per consultant and day (upsert log keyed by cc_id, type, attribution_date;
-- greatest version wins).
-- role: output
create table cc_daily_tracking (
    cc_id bigint,
    cc_index bigint,
    `type` int,
    attribution_date string,
    update_time string,
    `version` bigint,
    is_deleted tinyint,
    processed_at timestamp_ltz(3)
);
