"""Intra-day change events for the preheat sources: moves, tutor changes, reschedules."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from classpulse.preheat.engine import CHANGE_KINDS  # the kinds the engine applies
from classpulse.preheat.generator import (
    ASSIGNMENT_TOPIC,
    CHANGE_TOPIC,
    SCHEDULE_TOPIC,
    ChangeBatch,
    assignment_line,
    schedule_line,
    write_topic_lines,
)
from classpulse.preheat.world import (
    NEW_TUTOR_BASE,
    SLOTS,
    PreheatGeneratorError,
    PreheatGeneratorOptions,
    Stamper,
    World,
    build_world,
    counter_from,
)
from classpulse.topics import TopicDirectoryWriter


def change_stamp(stamper: Stamper, day: date, batch_no: int, index: int) -> str:
    moment = stamper.at(day, 8) + timedelta(minutes=batch_no, milliseconds=index)
    return stamper.text(moment)


def apply_change_batch(
    world: World, options: PreheatGeneratorOptions, batch_no: int, count: int
) -> tuple[list[tuple[str, str]], ChangeBatch]:
    """Mutate ``world`` by one batch of changes; return (topic, line) pairs and the batch."""
    rng = random.Random(f"preheat-changes:{options.seed}:{batch_no}")
    stamper = Stamper(options.timezone)
    lines: list[tuple[str, str]] = []
    kinds: Counter[str] = Counter()
    touched: set[int] = set()
    tutor_courses = [course for course in world.courses if course.source]
    movable = [course for course in tutor_courses if len(course.tutors()) >= 2]
    lessons = [(course, lesson) for course in world.courses for lesson in course.lessons]
    new_tutors = counter_from(NEW_TUTOR_BASE + batch_no * 1_000)
    slot = options.seed % SLOTS
    base_id = int(f"{options.day:%Y%m%d}") * 10**10 + slot * 10**8 + batch_no * 10**4
    if count >= 10**4:
        raise PreheatGeneratorError("at most 9999 change events per batch")
    for index in range(count):
        stamp = change_stamp(stamper, options.day, batch_no, index)
        kind = rng.choices(CHANGE_KINDS, weights=(5, 2, 2, 1))[0]
        if kind == "student_moved" and not movable:
            kind = "lesson_rescheduled"
        if kind == "tutor_changed" and not tutor_courses:
            kind = "lesson_rescheduled"
        cancelled = [(c, lesson) for c, lesson in lessons if lesson.status == "cancelled"]
        if kind == "lesson_reopened" and not cancelled:
            kind = "lesson_rescheduled"
        event = {"lesson_id": 0, "course_id": 0, "student_id": 0, "tutor_id": 0}
        if kind == "student_moved":
            course = rng.choice(movable)
            candidates = [i for i, tutor in enumerate(course.tutor_of) if tutor]
            position = rng.choice(candidates)
            old = course.tutor_of[position]
            new = rng.choice([tutor for tutor in course.tutors() if tutor != old])
            classes = course.classes_by_tutor().get(new, [])
            course.tutor_of[position] = new
            course.class_of[position] = rng.choice(classes) if classes else 0
            course.unassigned.pop(position, None)
            student = course.students[position]
            lines.append(
                (
                    ASSIGNMENT_TOPIC,
                    assignment_line(
                        course, student, new, course.class_of[position], "active", stamp
                    ),
                )
            )
            event.update(course_id=course.course_id, student_id=student, tutor_id=new)
            touched.update(lesson.lesson_id for lesson in course.lessons)
        elif kind == "tutor_changed":
            course = rng.choice(tutor_courses)
            old = rng.choice(course.tutors())
            new = next(new_tutors)
            for position, tutor in enumerate(course.tutor_of):
                if tutor == old:
                    course.tutor_of[position] = new
                    if position in course.unassigned:
                        continue
                    lines.append(
                        (
                            ASSIGNMENT_TOPIC,
                            assignment_line(
                                course,
                                course.students[position],
                                new,
                                course.class_of[position],
                                "active",
                                stamp,
                            ),
                        )
                    )
            event.update(course_id=course.course_id, tutor_id=old)
            touched.update(lesson.lesson_id for lesson in course.lessons)
        elif kind == "lesson_reopened":
            course, lesson = rng.choice(cancelled)
            lesson.status = "scheduled"
            lines.append((SCHEDULE_TOPIC, schedule_line(course, lesson, stamp)))
            event.update(lesson_id=lesson.lesson_id, course_id=course.course_id)
            touched.add(lesson.lesson_id)
        else:
            course, lesson = rng.choice(lessons)
            shift = timedelta(minutes=rng.choice((30, 60, 90, 120)))
            if rng.random() < 0.2:
                lesson.lesson_date += timedelta(days=1)
                shift += timedelta(days=1)
            lesson.starts_at += shift
            lesson.ends_at += shift
            lines.append((SCHEDULE_TOPIC, schedule_line(course, lesson, stamp)))
            event.update(lesson_id=lesson.lesson_id, course_id=course.course_id)
            touched.add(lesson.lesson_id)
        kinds[kind] += 1
        lines.append(
            (
                CHANGE_TOPIC,
                f'{{"change_id":{base_id + index},"change_kind":"{kind}",'
                f'"lesson_id":{event["lesson_id"]},"course_id":{event["course_id"]},'
                f'"student_id":{event["student_id"]},"tutor_id":{event["tutor_id"]},'
                f'"occurred_at":"{stamp}"}}',
            )
        )
    return lines, ChangeBatch(batch_no, count, kinds, touched, 0)


def generate_changes(
    options: PreheatGeneratorOptions, root: Path, batch_no: int, count: int
) -> ChangeBatch:
    """Write change batch ``batch_no`` (1, 2, …) of ``count`` events for the day's world.

    The world is rebuilt from ``options`` and batches ``1 .. batch_no-1`` are replayed first,
    so batch ``n`` always starts from the state the earlier batches left (same options and
    counts give the same files). A student move only touches lessons of its own course.
    """
    if batch_no < 1:
        raise PreheatGeneratorError("change batches are numbered from 1")
    if count < 1:
        raise PreheatGeneratorError("a change batch needs at least one event")
    world = build_world(options)
    for earlier in range(1, batch_no):
        apply_change_batch(world, options, earlier, count)
    lines, batch = apply_change_batch(world, options, batch_no, count)
    writer = TopicDirectoryWriter(Path(root))
    prefix = f"{options.day:%Y%m%d}-changes{batch_no:04d}-seed{options.seed}-n{count}"
    try:
        for topic in (SCHEDULE_TOPIC, ASSIGNMENT_TOPIC, CHANGE_TOPIC):
            topic_lines = [line for name, line in lines if name == topic]
            batch.files += write_topic_lines(writer, topic, prefix, topic_lines)[1]
    finally:
        writer.close()
    return batch
