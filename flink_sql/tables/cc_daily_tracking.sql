-- Mart: confirmed orders per consultant and day (upsert log keyed by cc_id, type, attribution_date;
-- greatest version wins).
-- role: output
CREATE TABLE cc_daily_tracking (
    cc_id            BIGINT,
    cc_index         BIGINT,
    `type`           INT,
    attribution_date STRING,
    update_time      STRING,
    `version`        BIGINT,
    is_deleted       TINYINT,
    processed_at     TIMESTAMP_LTZ(3)
);
