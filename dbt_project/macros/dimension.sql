{#- The preheat's published dimension (LIVE_CLASSROOM_CONTRACT.md C) joined at build time.

    published_rooms(): dim.live_room_current, one row per room (the greatest lesson_id wins);
    published_members(): dim.room_membership_current, one row per room and student (the greatest
    lesson_id; a member counts only when it is the room's lesson). A warehouse the preheat never
    ran in has no dim views: then both are empty and every row is room_unknown. -#}

{#- A declared dim source (models/dim/sources.yml) when the warehouse holds it, else none. Naming
    the source at parse time puts it in the lineage of every model that joins it. -#}
{% macro dimension_relation(name) -%}
    {%- set declared = source('dim', name) -%}
    {%- if execute and adapter.get_relation(database=none, schema='dim', identifier=name) is not none -%}
        {{ return(declared) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{% macro published_rooms() -%}
    {%- set relation = dimension_relation('live_room_current') -%}
    {%- if relation is none -%}
    (
        select
            toUInt64(0) as room_key, toUInt64(0) as room_lesson_id, toDate(0) as room_lesson_date,
            '' as room_role_name, toUInt64(0) as room_expected_members,
            toUInt64(0) as room_tutor_id, toUInt64(0) as room_scope_node_id,
            toUInt64(0) as room_run_id, toUInt8(1) as room_found
        where 0
    )
    {%- else -%}
    (
        -- one tuple per room, so no output alias shadows the lesson_id it is chosen by; names
        -- of their own, so none clashes with the enriched rows' columns
        select
            room_id as room_key,
            latest.1 as room_lesson_id, latest.2 as room_lesson_date, latest.3 as room_role_name,
            latest.4 as room_expected_members, latest.5 as room_tutor_id,
            latest.6 as room_scope_node_id, latest.7 as room_run_id, toUInt8(1) as room_found
        from (
            select
                room_id,
                argMax(
                    (lesson_id, lesson_date, toString(room_role), toUInt64(expected_members),
                        tutor_id, scope_node_id, run_id),
                    lesson_id
                ) as latest
            from {{ relation }}
            group by room_id
        )
    )
    {%- endif -%}
{%- endmacro %}

{% macro published_members() -%}
    {%- set relation = dimension_relation('room_membership_current') -%}
    {%- if relation is none -%}
    (
        select
            toUInt64(0) as member_room_key, toUInt64(0) as member_student_key,
            toUInt64(0) as member_lesson_id, toUInt64(0) as member_tutor_id,
            toUInt64(0) as member_class_id, toUInt64(0) as member_group_node_id,
            toUInt8(1) as member_found
        where 0
    )
    {%- else -%}
    (
        select
            room_id as member_room_key, student_id as member_student_key,
            latest.1 as member_lesson_id, latest.2 as member_tutor_id, latest.3 as member_class_id,
            latest.4 as member_group_node_id, toUInt8(1) as member_found
        from (
            select
                room_id, student_id,
                argMax((lesson_id, tutor_id, class_id, group_node_id), lesson_id) as latest
            from {{ relation }}
            group by room_id, student_id
        )
    )
    {%- endif -%}
{%- endmacro %}

{#- Every column of `rows` plus C's dimension columns; `time_column` (epoch ms) dates a row whose
    room is unknown. -#}
{% macro with_dimension(rows, time_column) -%}
    {#- a student is a member of the room's lesson (the greatest one) -#}
    {%- set is_member -%}
        (x.role = 'student' and d.room_found = 1 and m.member_found = 1 and m.member_lesson_id = d.room_lesson_id)
    {%- endset -%}
    select
        x.*,
        toUInt64(if(d.room_found = 1, d.room_lesson_id, 0)) as lesson_id,
        if(d.room_found = 1, d.room_lesson_date,
            toDate({{ epoch_ms_to_business('x.' ~ time_column) }})) as lesson_date,
        if(d.room_found = 1, d.room_role_name, '') as room_role,
        toUInt64(if(d.room_found = 1, d.room_expected_members, 0)) as expected_members,
        toUInt64(multiIf(
            {{ is_member }}, m.member_tutor_id, d.room_found = 1, d.room_tutor_id, 0
        )) as tutor_id,
        toUInt64(if({{ is_member }}, m.member_class_id, 0)) as class_id,
        toUInt64(multiIf(
            {{ is_member }}, m.member_group_node_id, d.room_found = 1, d.room_scope_node_id, 0
        )) as org_node_id,
        toUInt64(if(d.room_found = 1, d.room_run_id, 0)) as dim_run_id,
        multiIf(
            d.room_found = 0, 'room_unknown',
            x.role = 'student' and not {{ is_member }}, 'member_unknown',
            'ok'
        ) as dim_status
    from {{ rows }} as x
    left join {{ published_rooms() }} as d on d.room_key = x.room_id
    left join {{ published_members() }} as m
        on m.member_room_key = x.room_id and m.member_student_key = toUInt64(x.user_id)
{%- endmacro %}
