-- Time from a recorded-course session's start to each PPT_SUCCESS, offline (late events in).
-- Grain: one row per PPT_SUCCESS that has an earlier event of the same user and classroom at most
-- the look-back (contract: 3 h by default, inclusive) before it. Contract: recorded_course_enter_time;
-- the rule itself is macros/recorded_course.sql (shared with the reconciliation).
{{ config(
    materialized='incremental',
    partition_by='toDate(create_time)',
    order_by='(user_id, classroom_id, create_time)',
) }}

with events as (
    select *
    from {{ ref('recorded_course_events') }}
    {%- if var('run_date', '') %}
    -- the look-back may reach into the previous day
    where event_date between toDate('{{ var("run_date") }}') - 1 and toDate('{{ var("run_date") }}')
    {%- endif %}
)

select *
from ({{ enter_time_rows('events') }})
{%- if var('run_date', '') %}
where toDate(create_time) = toDate('{{ var("run_date") }}')
{%- endif %}
