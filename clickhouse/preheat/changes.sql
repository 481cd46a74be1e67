-- The lessons intra-day changes in (after, upto] touch (seed: 异动). A lesson event
-- (lesson_rescheduled, lesson_reopened) touches its lesson. Course events touch the course's
-- lessons readers currently see, dated on or after the event's business day: every one
-- for tutor_changed, those the student has an enrollment row in for student_moved.
WITH
    events AS (
        SELECT
            change_kind,
            lesson_id,
            course_id,
            student_id,
            toDate(occurred_at, {timezone:String}) AS event_date
        FROM ods.lesson_change
        WHERE change_id > {after:UInt64} AND change_id <= {upto:UInt64}
    ),
    recent AS (
        SELECT lesson_id, lesson_date
        FROM dim.lesson_current_run
        WHERE lesson_date >= (SELECT min(event_date) FROM events)
    ),
    course_lessons AS (
        SELECT recent.lesson_id AS lesson_id, recent.lesson_date AS lesson_date, schedule.course_id AS course_id
        FROM recent
        INNER JOIN
            (
                SELECT lesson_id, course_id
                FROM ods.lesson_schedule FINAL
                WHERE lesson_id IN (SELECT lesson_id FROM recent)
            ) AS schedule
            ON schedule.lesson_id = recent.lesson_id
        WHERE schedule.course_id IN (SELECT course_id FROM events WHERE course_id != 0)
    ),
    moved AS (
        SELECT DISTINCT lesson_id, student_id
        FROM ods.lesson_enrollment
        WHERE
            lesson_id IN (SELECT lesson_id FROM course_lessons)
            AND student_id IN (SELECT student_id FROM events WHERE change_kind = 'student_moved')
    )
SELECT DISTINCT lesson_id
FROM
    (
        SELECT lesson_id
        FROM events
        WHERE change_kind IN ('lesson_rescheduled', 'lesson_reopened') AND lesson_id != 0
        UNION ALL
        SELECT course_lessons.lesson_id
        FROM events
        INNER JOIN course_lessons ON course_lessons.course_id = events.course_id
        WHERE events.change_kind = 'tutor_changed' AND course_lessons.lesson_date >= events.event_date
        UNION ALL
        SELECT course_lessons.lesson_id
        FROM events
        INNER JOIN course_lessons ON course_lessons.course_id = events.course_id
        INNER JOIN moved
            ON moved.lesson_id = course_lessons.lesson_id AND moved.student_id = events.student_id
        WHERE events.change_kind = 'student_moved' AND course_lessons.lesson_date >= events.event_date
    )
ORDER BY lesson_id
