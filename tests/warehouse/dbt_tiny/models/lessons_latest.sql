-- The latest version of every lesson; grain: lesson. New and changed lessons replace
-- their rows (delete+insert on lesson_id).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='lesson_id',
    engine='MergeTree()',
    order_by='lesson_id'
) }}
{{ latest_lessons() }}
