{#- Student engagement attributed to the preheat's tutors and groups, for the ads engagement marts.

    preheat_engagement_ctes() defines three CTEs:
    members: one row per (day, lesson, student) of the published preheat, with how many of the
      day's lessons the student is booked into (lessons);
    events_by_student: the day's classified student events per student (ads.classroom_performance_1min);
    engagement: members with their events split evenly across their lessons of the day (event_share)
      and whether they produced any event (is_engaged).
    Without the preheat's views (a warehouse it never ran in) members is empty. -#}
{% macro preheat_engagement_ctes() -%}
{%- set students = dimension_relation('lesson_student_current') -%}
members as (
    {%- if students is none %}
    select
        toDate(0) as lesson_date, toUInt64(0) as student_id, toUInt64(0) as tutor_id,
        '' as tutoring_source, '' as group_kind, toUInt64(0) as group_node_id,
        toUInt64(1) as lessons
    where 0
    {%- else %}
    select
        lesson_date,
        student_id,
        tutor_id,
        toString(tutoring_source) as tutoring_source,
        group_kind,
        group_node_id,
        toUInt64(count() over (partition by lesson_date, student_id)) as lessons
    from {{ students }}
    where {{ for_run_date('lesson_date') }}
    {%- endif %}
),

events_by_student as (
    select
        toDate(start_time) as event_date,
        user_id as student_id,
        sum(event_count) as events
    from {{ ref('classroom_performance_1min') }}
    where {{ for_run_date('toDate(start_time)') }}
    group by event_date, student_id
),

engagement as (
    select
        members.lesson_date as event_date,
        members.student_id as student_id,
        members.tutor_id as tutor_id,
        members.tutoring_source as tutoring_source,
        members.group_kind as group_kind,
        members.group_node_id as group_node_id,
        ifNull(events_by_student.events, 0) / members.lessons as event_share,
        ifNull(events_by_student.events, 0) > 0 as is_engaged
    from members
    left join events_by_student
        on events_by_student.event_date = members.lesson_date
        and events_by_student.student_id = members.student_id
)
{%- endmacro %}
