-- Step 1 of a batch: place every enrolled student of the batch's lessons (one row per
-- run, lesson, student): tutor, class and the org-node chain root .. leaf per org policy.
-- Groups of group_size students (by student id within the tutor) form teams of team_size
-- groups; node ids are cityHash64 of the path, so the same tree gets the same ids each run.
insert into dim.preheat_placement
(
    run_id, lesson_id, lesson_date, student_id, tutoring_source, tutor_id, class_id,
    org_policy, room_policy, preheat_mode, node_ids, node_names
)
select
    {run_id:UInt64} as run_id,
    lesson_id,
    lesson_date,
    student_id,
    tutoring_source,
    tutor_id,
    class_id,
    org_policy,
    room_policy,
    preheat_mode,
    arrayMap(
        depth -> cityHash64(arrayStringConcat(arraySlice(names, 1, depth), '/')),
        arrayEnumerate(names)
    ) as node_ids,
    names as node_names
from
    (
        select
            *,
            intDiv(
                row_number() over (partition by lesson_id, tutor_id order by student_id) - 1,
                group_size
            ) as group_no,
            arrayConcat(
                [root_path],
                if(
                    tutor_id = 0,
                    [],
                    [
                        concat(
                            if(org_policy in ('lpc', 'lpc_wechat_group'), 'lpc:', 'tutor:'),
                            toString(tutor_id)
                        )
                    ]
                ),
                multiIf(
                    tutor_id = 0, [],
                    org_policy = 'tutor_team_group',
                    [
                        concat('team:', toString(intDiv(group_no, team_size))),
                        concat('group:', toString(group_no))
                    ],
                    org_policy = 'tutor_small_class' and class_id != 0,
                    [concat('small_class:', toString(class_id))],
                    org_policy = 'lpc_wechat_group' and class_id != 0,
                    [concat('wechat_group:', toString(class_id))],
                    []
                )
            ) as names
        from dim.preheat_expected_students(lessons = {lessons:Array(UInt64)})
    )
