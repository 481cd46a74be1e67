-- Totals per source topic over everything landed: messages read, accepted, rejected.
-- Grain: one row per topic. Contract: ods.topic_accounting ("nothing lost" is checkable).
{{ config(materialized='view') }}

select
    topic,
    sum(messages_read) as messages_read,
    sum(accepted) as accepted,
    sum(rejected) as rejected
from {{ source('ods', 'topic_accounting_log') }} final
group by topic
