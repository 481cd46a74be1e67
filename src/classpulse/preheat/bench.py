"""The preheat engine's speed: one 30k lesson, one 600k lesson and a scaled day, in one run.

The benchmark starts a warehouse server of its own (temporary data path and port), writes
the sources with the preheat generator, lands them with the loader, and measures what the
nightly job does: build (rooms, org tree, membership; one batch per huge lesson) plus the
check against the source. The huge lessons are built ``repeats`` times into fresh runs and
the medians reported; the day is planned, built in batches, checked and published once.

Goals (from the issue): 30k students in under 5 s and 600k in under 60 s on 2 cores,
against the seed's ~1.5 min and ~45 min on a worker cluster.

Projection to the seed's peak day (20k lessons, 600M enrollments, 2w×3w in the seed):
a linear model ``seconds = per_lesson × lessons + per_student × students``. The
per-student cost is the slope between the two huge lessons (same shape, 20× the
students); the per-lesson cost is what the day's time leaves after its students are
paid for (planning, batches, many small lessons). Both measured here, in this run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from classpulse import pipeline
from classpulse.bench import Timing
from classpulse.bench.stack import own_broker, own_warehouse
from classpulse.config import Settings, load_settings
from classpulse.kafka import broker
from classpulse.preheat.engine import (
    DEFAULT_MAX_BATCH_STUDENTS,
    check_batch,
    check_run,
    create_run,
    pack_batches,
    plan_lessons,
    preheat_batch,
)
from classpulse.preheat.generator import PREHEAT_TOPICS, generate
from classpulse.preheat.publication import publish_run, report
from classpulse.preheat.world import HUGE_BASE, PreheatGeneratorOptions
from classpulse.warehouse import daemon

BENCH_DAY = date(2026, 11, 21)
PEAK_LESSONS = 20_000
PEAK_STUDENTS = 600_000_000  # the seed's worst case: 2w lessons × 3w students
SEED_REPORTED_STUDENTS = 6_000_000  # the seed's "600w+" enrolled students on a peak day


@dataclass
class Scenario:
    """One measured workload."""

    name: str
    lessons: int
    students: int
    members: int
    rooms: int
    nodes: int
    batches: int
    generate_seconds: float
    land_seconds: float
    land_rows: int
    build: Timing
    check: Timing
    publish_seconds: float = 0.0
    goal_seconds: float | None = None
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Median build + median check (+ publish for the day)."""
        return self.build.median + self.check.median + self.publish_seconds

    @property
    def students_per_second(self) -> float:
        return self.students / self.seconds if self.seconds else 0.0

    @property
    def meets_goal(self) -> bool | None:
        return None if self.goal_seconds is None else self.seconds < self.goal_seconds


@dataclass(frozen=True)
class Projection:
    seconds_per_student: float
    seconds_per_lesson: float
    lessons: int
    students: int

    def seconds_for(self, lessons: int, students: int) -> float:
        return self.seconds_per_lesson * lessons + self.seconds_per_student * students

    @property
    def peak_seconds(self) -> float:
        return self.seconds_for(self.lessons, self.students)


@dataclass
class PreheatBenchmark:
    scenarios: list[Scenario]
    projection: Projection
    cores: int
    repeats: int


def bench_settings(workdir: Path) -> Settings:
    return replace(
        load_settings(),
        **own_warehouse(workdir / "server"),
        topics_dir=workdir / "topics",
        home=workdir / "home",
        # the preheat topics go through Kafka: a broker of the benchmark's own (its offsets,
        # its landing group), stopped with the warehouse
        **own_broker(workdir / "kafka"),
        kafka_heap="384m",
    )


def land(settings: Settings, options: PreheatGeneratorOptions) -> tuple[float, float, int, list]:
    """Generate and land one part; return (generate s, land s, rows, lesson ids)."""
    started = time.perf_counter()
    generated = generate(options, settings.topics_dir)
    generated_at = time.perf_counter()
    landed = pipeline.load(settings, only=PREHEAT_TOPICS)
    return (
        generated_at - started,
        time.perf_counter() - generated_at,
        landed["rows"],
        generated.lesson_ids,
    )


def measure_lesson(
    settings: Settings, name: str, students: int, repeats: int, goal: float
) -> Scenario:
    """Build and check one huge lesson ``repeats`` times, each into a fresh run."""
    options = PreheatGeneratorOptions(day=BENCH_DAY, huge_lessons=(students,), include_day=False)
    generate_s, land_s, rows, lesson_ids = land(settings, options)
    builds, checks = [], []
    steps: dict[str, list[float]] = {}
    result = None
    for _ in range(repeats):
        run_id = create_run(settings, BENCH_DAY, lesson_ids, kind="lessons", note=name)
        started = time.perf_counter()
        result = preheat_batch(settings, BENCH_DAY, lesson_ids, run_id)
        builds.append(time.perf_counter() - started)
        started = time.perf_counter()
        check_batch(settings, run_id, lesson_ids)
        checks.append(time.perf_counter() - started)
        steps.setdefault("check", []).append(checks[-1])
        for step, seconds in result.step_seconds.items():
            steps.setdefault(step, []).append(seconds)
    assert result is not None
    return Scenario(
        name=name,
        lessons=len(lesson_ids),
        students=result.students,
        members=result.members,
        rooms=result.rooms,
        nodes=result.nodes,
        batches=1,
        generate_seconds=generate_s,
        land_seconds=land_s,
        land_rows=rows,
        build=Timing("build", builds),
        check=Timing("check", checks),
        goal_seconds=goal,
        step_seconds={step: statistics.median(values) for step, values in steps.items()},
    )


def measure_day(
    settings: Settings, scale: float, max_batch_students: int, seed: int = 1
) -> Scenario:
    """Plan, build, check and publish a generated day once."""
    options = PreheatGeneratorOptions(day=BENCH_DAY, seed=seed, scale=scale)
    generate_s, land_s, rows, _ = land(settings, options)
    started = time.perf_counter()
    planned = plan_lessons(settings, BENCH_DAY)
    day_lessons = [lesson for lesson in planned if lesson.lesson_id < HUGE_BASE]  # not the huge
    batches = pack_batches(day_lessons, max_batch_students)
    run_id = create_run(
        settings, BENCH_DAY, [lesson.lesson_id for lesson in day_lessons], note="day"
    )
    for number, batch in enumerate(batches, start=1):
        preheat_batch(settings, BENCH_DAY, batch, run_id, batch_no=number)
    built = time.perf_counter() - started
    started = time.perf_counter()
    check_run(settings, run_id)
    checked = time.perf_counter() - started
    started = time.perf_counter()
    publish_run(settings, run_id)
    published = time.perf_counter() - started
    summary = report(settings, run_id)
    return Scenario(
        name=f"scaled day (scale {scale:g})",
        lessons=summary.built,
        students=summary.students,
        members=summary.members,
        rooms=summary.rooms,
        nodes=summary.nodes,
        batches=len(batches),
        generate_seconds=generate_s,
        land_seconds=land_s,
        land_rows=rows,
        build=Timing("build", [built]),
        check=Timing("check", [checked]),
        publish_seconds=published,
    )


def project(small: Scenario, large: Scenario, day: Scenario) -> Projection:
    """Per-student cost from the two huge lessons, per-lesson cost from the day."""
    per_student = (large.seconds - small.seconds) / max(large.students - small.students, 1)
    if per_student <= 0:  # noise swamped the slope: fall back to the large lesson's average
        per_student = large.seconds / max(large.students, 1)
    per_lesson = max((day.seconds - per_student * day.students) / max(day.lessons, 1), 0.0)
    return Projection(per_student, per_lesson, PEAK_LESSONS, PEAK_STUDENTS)


def run_preheat_benchmark(
    small_students: int = 30_000,
    large_students: int = 600_000,
    day_scale: float = 40.0,
    repeats: int = 3,
    max_batch_students: int = DEFAULT_MAX_BATCH_STUDENTS,
    on_stage: Callable[[str], None] | None = None,
) -> PreheatBenchmark:
    """Measure the 30k lesson, the 600k lesson and a scaled day on a fresh server."""
    workdir = Path(tempfile.mkdtemp(prefix="classpulse-bench-preheat-"))
    settings = bench_settings(workdir)
    os.environ.pop("CLASSPULSE_CLICKHOUSE_PASSWORD", None)
    daemon.start(settings)
    try:

        def stage(text: str) -> None:
            if on_stage is not None:
                on_stage(text)

        stage(f"{small_students:,}-student lesson")
        small = measure_lesson(
            settings, f"{small_students:,}-student lesson", small_students, repeats, 5.0
        )
        stage(f"{large_students:,}-student lesson")
        large = measure_lesson(
            settings, f"{large_students:,}-student lesson", large_students, repeats, 60.0
        )
        stage(f"scaled day (scale {day_scale:g})")
        day = measure_day(settings, day_scale, max_batch_students)
        return PreheatBenchmark(
            scenarios=[small, large, day],
            projection=project(small, large, day),
            cores=os.cpu_count() or 1,
            repeats=repeats,
        )
    finally:
        daemon.stop(settings)
        broker.stop(settings)  # started by the first landing (pipeline.ensure_kafka)
        shutil.rmtree(workdir, ignore_errors=True)


def format_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.2f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def print_preheat_benchmark(console: Console, result: PreheatBenchmark) -> None:
    """The scenarios side by side, the build steps of the huge lessons, the projection."""
    table = Table(
        title=f"Preheat benchmark ({result.cores} cores; huge lessons: median of {result.repeats})",
        header_style="bold cyan",
    )
    headers = ("workload", "lessons", "students", "rooms", "nodes", "members", "batches")
    for header in (*headers, "build", "check", "total", "students/s", "goal"):
        table.add_column(header, justify="left" if header == "workload" else "right")
    for item in result.scenarios:
        goal = "-"
        if item.goal_seconds is not None:
            mark = "[green]met[/green]" if item.meets_goal else "[red]missed[/red]"
            goal = f"< {item.goal_seconds:g} s {mark}"
        table.add_row(
            item.name,
            f"{item.lessons:,}",
            f"{item.students:,}",
            f"{item.rooms:,}",
            f"{item.nodes:,}",
            f"{item.members:,}",
            f"{item.batches:,}",
            f"{item.build.median:.2f} s",
            f"{item.check.median:.2f} s",
            f"{item.seconds:.2f} s",
            f"{item.students_per_second:,.0f}",
            goal,
        )
    console.print(table)
    steps = Table(
        title="Build steps of the huge lessons (median seconds)", header_style="bold cyan"
    )
    names = sorted({step for item in result.scenarios for step in item.step_seconds})
    steps.add_column("workload")
    for name in names:
        steps.add_column(name, justify="right")
    for item in result.scenarios:
        if item.step_seconds:
            steps.add_row(item.name, *(f"{item.step_seconds.get(name, 0):.3f}" for name in names))
    console.print(steps)
    sources = Table(
        title="Sources (generated and landed once per workload)", header_style="bold cyan"
    )
    for header in ("workload", "generate", "land", "rows landed", "rows/s"):
        sources.add_column(header, justify="left" if header == "workload" else "right")
    for item in result.scenarios:
        sources.add_row(
            item.name,
            f"{item.generate_seconds:.2f} s",
            f"{item.land_seconds:.2f} s",
            f"{item.land_rows:,}",
            f"{item.land_rows / item.land_seconds:,.0f}" if item.land_seconds else "-",
        )
    console.print(sources)
    projection = result.projection
    console.print(
        f"Measured scaling: {projection.seconds_per_student * 1e6:.2f} µs per enrolled student, "
        f"{projection.seconds_per_lesson * 1e3:.1f} ms per lesson (build + check, this machine)."
    )
    console.print(
        f"Projected peak day ({projection.lessons:,} lessons, {projection.students:,} "
        f"enrollments): {format_duration(projection.peak_seconds)} on {result.cores} cores; "
        f"the seed's reported {SEED_REPORTED_STUDENTS:,} enrollments: "
        f"{format_duration(projection.seconds_for(projection.lessons, SEED_REPORTED_STUDENTS))}."
    )
