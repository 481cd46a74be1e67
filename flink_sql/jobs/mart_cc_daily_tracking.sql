-- Course-consultant daily tracking: confirmed orders (latest version: status 3, confirm time set)
-- per consultant and confirmation day. Grain: cc_id x type (1) x attribution_date; an upsert log.
-- Rule: DATA_CONTRACT.md cc_daily_tracking (seed scene 4, but the latest version by update_time
-- instead of the seed's last-arrived LAST_VALUE).

-- Latest version per order id: greatest update_time, ties to the later message (later split, then
-- the later position in it). The version's fields ride in one key whose MAX picks them together
-- (CHR(0) separators keep the tuple order of the leading fields). A ROW_NUMBER() top-1 would be the
-- usual form, but Flink 2.3 plans a top-1 Rank feeding an aggregate without retraction (MAX and
-- COUNT keep the versions that a later version replaced); an aggregate feeding an aggregate is
-- exact.
CREATE TEMPORARY VIEW latest_orders AS
SELECT
    CAST(version_fields[4] AS BIGINT) AS cc_id,
    CAST(version_fields[5] AS INT) AS `status`,
    -- '+' marks a confirm_date_time that is set, '-' one that is null
    CASE
        WHEN version_fields[6] LIKE '+%' THEN SUBSTR(version_fields[6], 2)
    END AS confirm_date_time,
    version_fields[1] AS update_time
FROM (
    SELECT
        id,
        SPLIT(MAX(CONCAT(
            update_time, CHR(0),
            source_split, CHR(0),
            LPAD(CAST(message_seq AS STRING), 19, '0'), CHR(0),
            CAST(cc_id AS STRING), CHR(0),
            CAST(`status` AS STRING), CHR(0),
            COALESCE(CONCAT('+', confirm_date_time), '-')
        )), CHR(0)) AS version_fields
    FROM data_pack_order_info_clean
    GROUP BY id
);

-- confirm_date_time is a business-time-zone string: its date part is the attribution day.
CREATE TEMPORARY VIEW cc_confirmations AS
SELECT
    cc_id,
    SUBSTR(confirm_date_time, 1, 10) AS attribution_date,
    COUNT(*) AS cc_index,
    MAX(update_time) AS update_time
FROM latest_orders
WHERE `status` = 3 AND confirm_date_time IS NOT NULL
GROUP BY cc_id, SUBSTR(confirm_date_time, 1, 10);

-- Upsert log as in mart_registrations_hourly_by_level: latest value per key by version, a
-- consultant day whose last order moved away is a DELETE (is_deleted = 1).
CREATE TEMPORARY VIEW cc_changes AS
SELECT cc_id, attribution_date, cc_index, update_time, op, PROCTIME() AS changed_at
FROM TO_CHANGELOG(input => TABLE cc_confirmations);

INSERT INTO cc_daily_tracking
SELECT cc_id, cc_index, 1, attribution_date, update_time, `version`, is_deleted, CURRENT_TIMESTAMP
FROM (
    SELECT
        cc_id, cc_index, attribution_date, update_time, op,
        CAST(UNIX_TIMESTAMP() AS BIGINT) * 1000000000 + COUNT(*) OVER (
            PARTITION BY cc_id, attribution_date ORDER BY changed_at
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS `version`,
        CAST(CASE WHEN op = 'DELETE' THEN 1 ELSE 0 END AS TINYINT) AS is_deleted
    FROM cc_changes
)
WHERE op <> 'UPDATE_BEFORE';
