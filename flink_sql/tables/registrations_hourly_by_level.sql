-- Mart: distinct registered students per hour and level (upsert log keyed by reg_hour, level;
-- greatest version wins, is_deleted marks a vanished key).
-- role: output
CREATE TABLE registrations_hourly_by_level (
    reg_hour     INT,
    `level`      STRING,
    leads        BIGINT,
    `version`    BIGINT,
    is_deleted   TINYINT,
    processed_at TIMESTAMP_LTZ(3)
);
