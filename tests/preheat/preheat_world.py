"""Preheat test helpers: a generated day landed in the real warehouse (produced into the
session's Kafka broker and landed from it, as every stage does), and its oracle.

Each test module lands its own day with its own seed (lesson, course and change ids carry
the seed), so modules never see each other's lessons. The oracle is the generator's own
model of the day (:func:`classpulse.preheat.generator.build_world`), computed in Python
without the engine's SQL: who is enrolled, with which tutor and class, under which policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from kafka_helpers import on_broker

from classpulse import pipeline
from classpulse.config import Settings
from classpulse.preheat import connect
from classpulse.preheat.generator import PREHEAT_TOPICS, GenerationResult, generate
from classpulse.preheat.world import (
    Course,
    Lesson,
    Policy,
    PreheatGeneratorOptions,
    build_huge_course,
    build_world,
)

CLASS_POLICIES = {"tutor_small_class", "lpc_wechat_group"}


@dataclass
class PreheatWorld:
    settings: Settings
    options: PreheatGeneratorOptions
    courses: list[Course]
    generated: GenerationResult

    @property
    def day(self) -> date:
        return self.options.day

    def lessons(self) -> list[tuple[Course, Lesson]]:
        return [(course, lesson) for course in self.courses for lesson in course.lessons]

    def lesson_ids(self) -> list[int]:
        return sorted(lesson.lesson_id for _, lesson in self.lessons())

    def lesson(self, lesson_id: int) -> tuple[Course, Lesson]:
        for course, lesson in self.lessons():
            if lesson.lesson_id == lesson_id:
                return course, lesson
        raise KeyError(lesson_id)

    def placements(self, lesson_id: int) -> dict[int, tuple[int, int]]:
        """Oracle: student -> (tutor, class) the engine must place for this lesson."""
        course, lesson = self.lesson(lesson_id)
        policy = course.policy
        if lesson.status != "scheduled" or policy.preheat_mode == "minimal":
            return {}
        placed = {}
        for index, student in enumerate(course.students):
            if student in lesson.withdrawn:
                continue
            assigned = index not in course.unassigned and policy.org_policy != "flat"
            tutor = course.tutor_of[index] if assigned else 0
            has_class = tutor and policy.org_policy in CLASS_POLICIES
            placed[student] = (tutor, course.class_of[index] if has_class else 0)
        return placed

    def policy(self, lesson_id: int) -> Policy:
        return self.lesson(lesson_id)[0].policy


def land_preheat_topics(settings: Settings) -> int:
    """Produce the preheat topic files not produced yet into Kafka, land the preheat topics
    from Kafka (what ``classpulse preheat`` and the DAGs do); rows landed."""
    return pipeline.load(settings, only=tuple(PREHEAT_TOPICS))["rows"]


def land_world(warehouse: Settings, kafka: Settings, topics: Path, **options: Any) -> PreheatWorld:
    """Generate a day into ``topics``, land it through ``kafka``'s broker, and return it with
    its oracle."""
    generator_options = PreheatGeneratorOptions(**options)
    generated = generate(generator_options, topics)
    settings = on_broker(replace(warehouse, topics_dir=topics, home=topics.parent / "home"), kafka)
    land_preheat_topics(settings)
    courses = build_world(generator_options).courses if generator_options.include_day else []
    courses += [
        build_huge_course(generator_options, size) for size in generator_options.huge_lessons
    ]
    return PreheatWorld(settings, generator_options, courses, generated)


def land_module_world(
    warehouse: Settings,
    kafka: Settings,
    tmp_path_factory: Any,
    day: Any,
    seed: int,
    **options: Any,
) -> PreheatWorld:
    """A test module's world: half the day's scale, lessons of at most 1,500 students (the
    preheat modules' common size), landed into topics of the module's own."""
    return land_world(
        warehouse,
        kafka,
        tmp_path_factory.mktemp("topics"),
        day=day,
        seed=seed,
        scale=0.5,
        max_lesson_students=1500,
        **options,
    )


def rows(settings: Settings, sql: str, **parameters: Any) -> list[tuple]:
    """Result rows of one query with server-side parameters."""
    result = connect(settings).query(sql, parameters=parameters)
    return [tuple(row) for row in result.result_rows]


def execute(settings: Settings, sql: str, **parameters: Any) -> None:
    connect(settings).command(sql, parameters=parameters)
