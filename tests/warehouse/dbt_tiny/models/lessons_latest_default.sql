-- The same as lessons_latest with dbt-clickhouse's default incremental strategy.
{{ config(
    materialized='incremental',
    unique_key='lesson_id',
    engine='MergeTree()',
    order_by='lesson_id'
) }}
select lesson_id, classroom_id, attendee_count, updated_at
from {{ ref('stg_lessons') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
order by updated_at desc
limit 1 by lesson_id
