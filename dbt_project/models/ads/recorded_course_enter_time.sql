-- Time from a recorded-course session's start to each PPT_SUCCESS, offline (late events in).
-- Grain: one row per PPT_SUCCESS that has an earlier event of the same user and classroom at most
-- the look-back (contract: 3 h, inclusive) before it. Contract: recorded_course_enter_time.
-- The session start is the earliest strictly earlier data_time in the look-back (ties: the
-- smallest event_time); user_type and event_time come from it, as in the seed. One row per
-- PPT_SUCCESS, not one per earlier event (the seed's self-join bug).
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    engine='MergeTree',
    partition_by='toDate(create_time)',
    order_by='(user_id, classroom_id, create_time)',
) }}

{%- set lookback = var('enter_time_lookback_ms') | int %}

with windowed as (
    select
        user_id,
        classroom_id,
        sub_event,
        event_time as success_event_time,
        data_time,
        event_date,
        min((data_time, event_time, user_type)) over (
            partition by user_id, classroom_id
            order by data_time
            range between {{ lookback }} preceding and 1 preceding
        ) as session_start
    from {{ ref('recorded_course_events') }}
    {%- if var('run_date', '') %}
    -- the look-back may reach into the previous day
    where event_date between toDate('{{ var("run_date") }}') - 1 and toDate('{{ var("run_date") }}')
    {%- endif %}
)

select
    user_id,
    classroom_id,
    cast(session_start.3 as LowCardinality(String)) as user_type,
    data_time - session_start.1 as spend_time,
    {{ epoch_ms_to_business('session_start.2') }} as event_time,
    {{ epoch_ms_to_business('success_event_time') }} as create_time
from windowed
where
    sub_event = 'PPT_SUCCESS'
    and session_start.1 > 0
{%- if var('run_date', '') %}
    and toDate(create_time) = toDate('{{ var("run_date") }}')
    {%- endif %}
