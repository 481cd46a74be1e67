-- Registrations per hour and level: distinct students by the latest version of each student, user
-- and channel; user status NORMAL, test accounts excluded, students without a user not counted.
-- Grain: reg_hour (YYYYMMDDHH of register_date_time) x level (A-D or 'other'); an upsert log. Rule:
-- DATA_CONTRACT.md registrations_hourly_by_level (seed scene 4, latest version by update_time).

-- Latest version per id (flink_sql/templates/latest_version.sql).
apply template latest_version (
    view = 'latest_students', source = 'uc_account_student_clean', columns = 'id, channel_id'
);

apply template latest_version (
    view = 'latest_users', source = 'uc_account_user_clean',
    columns = 'id, `name`, register_date_time, `status`'
);

apply template latest_version (
    view = 'latest_channels', source = 'channel_name_dictionary_clean', columns = 'id, `level`'
);

-- register_date_time is a business-time-zone string, so its hour bucket is a plain reformat.
CREATE TEMPORARY VIEW registration_leads AS
SELECT
    CAST(DATE_FORMAT(users.register_date_time, 'yyyyMMddHH') AS INT) AS reg_hour,
    CASE WHEN channels.`level` IN ('A', 'B', 'C', 'D') THEN channels.`level` ELSE 'other' END AS `level`,
    COUNT(DISTINCT students.id) AS leads
FROM latest_students AS students
JOIN latest_users AS users ON users.id = students.id
LEFT JOIN latest_channels AS channels ON channels.id = students.channel_id
WHERE users.`status` = 'NORMAL'
    AND users.`name` NOT LIKE '%测试%'
    AND users.`name` NOT LIKE '%test%'
    AND users.`name` NOT LIKE 'DM!_%' ESCAPE '!'
GROUP BY
    CAST(DATE_FORMAT(users.register_date_time, 'yyyyMMddHH') AS INT),
    CASE WHEN channels.`level` IN ('A', 'B', 'C', 'D') THEN channels.`level` ELSE 'other' END;

-- The aggregate updates as versions arrive. TO_CHANGELOG turns it into an append-only log: every
-- current value (INSERT / UPDATE_AFTER) and every vanished key (DELETE, is_deleted = 1) with a
-- version that grows per key (emission second * 1e9 + the key's change count), so a
-- ReplacingMergeTree(version, is_deleted) ordered by the key keeps exactly the latest value.
CREATE TEMPORARY VIEW registration_changes AS
SELECT reg_hour, `level`, leads, op, PROCTIME() AS changed_at
FROM TO_CHANGELOG(input => TABLE registration_leads);

INSERT INTO registrations_hourly_by_level
SELECT reg_hour, `level`, leads, `version`, is_deleted, CURRENT_TIMESTAMP
FROM (
    SELECT
        reg_hour, `level`, leads, op,
        CAST(UNIX_TIMESTAMP() AS BIGINT) * 1000000000 + COUNT(*) OVER (
            PARTITION BY reg_hour, `level` ORDER BY changed_at
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS `version`,
        CAST(CASE WHEN op = 'DELETE' THEN 1 ELSE 0 END AS TINYINT) AS is_deleted
    FROM registration_changes
)
WHERE op <> 'UPDATE_BEFORE';
