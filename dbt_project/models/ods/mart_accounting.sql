-- Per real-time mart: events in, counted by the windows, and late (latest report of each mart).
-- Grain: one row per mart. Contract: "counted in rt + late_events = accepted".
{{ config(materialized='view') }}

select mart, events_in, events_counted, events_late
from {{ source('ods', 'mart_accounting_log') }} final
