-- Per real-time mart: events in, counted by the windows, and late (the latest report of each run
-- of the mart's job, runs added up).
-- Grain: one row per mart. Contract: "counted in rt + late_events = accepted".
{{ config(materialized='view') }}

select
    mart,
    sum(events_in) as events_in,
    sum(events_counted) as events_counted,
    sum(events_late) as events_late
from {{ source('ods', 'mart_accounting_log') }} final
group by mart
