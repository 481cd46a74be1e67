-- Attendees per classroom over the latest version of every lesson; grain: classroom.
{{ config(materialized='table', engine='MergeTree()', order_by='classroom_id') }}
select
    classroom_id,
    count() as lesson_count,
    sum(attendee_count) as attendee_total
from {{ ref('lessons_latest') }}
group by classroom_id
