-- The latest version of every lesson; grain: lesson. New and changed lessons replace
-- their rows (delete+insert on lesson_id).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
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
