-- Change events landed after the cursor, per kind, with the highest change id.
SELECT change_kind, count() AS events, max(change_id) AS last_change_id
FROM ods.lesson_change
WHERE change_id > {after:UInt64}
GROUP BY change_kind
ORDER BY change_kind
