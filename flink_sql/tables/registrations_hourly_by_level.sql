-- Mart: distinct registered students per hour and level (upsert log keyed by reg_hour, level;
-- greatest version wins, is_deleted marks a vanished key).
-- role: output
create table registrations_hourly_by_level (
    reg_hour int,
    `level` string,
    leads bigint,
    `version` bigint,
    is_deleted tinyint,
    processed_at timestamp_ltz(3)
);
