-- The same as lessons_latest with dbt-clickhouse's default incremental strategy.
{{ config(
    materialized='incremental',
    unique_key='lesson_id',
    engine='MergeTree()',
    order_by='lesson_id'
) }}
{{ latest_lessons() }}
