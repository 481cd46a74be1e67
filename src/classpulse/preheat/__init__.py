"""Lesson preheat engine: live rooms, organisation trees and room membership per lesson.

Between 00:00 and 06:00 the engine builds, for every lesson of the day, what the live
platform needs before class (seed: ``shared/seeds/lesson-preheat-org-engine.zh.txt``):
live rooms by policy (a main room, plus pre-, in- and post-class rooms per tutor on camera:
3n+1), the organisation tree (``/lesson[/tutor|lpc[/team/group|small_class|wechat_group]]``)
and room membership (which student sits in which room, at which node). It checks the result
against the source, publishes it atomically and re-preheats what intra-day changes touch.

Everything is set-based SQL in ``clickhouse/preheat/`` (one file per step), run on the
warehouse with server-side parameters (``{run_id:UInt64}``, ``{day:Date}``,
``{lessons:Array(UInt64)}``, …); Python only plans, sequences and reports. No per-student
Python: one ``INSERT … SELECT`` per output per batch of lessons.

Modules: ``engine`` (SQL files and client, planning, batches, building, checks),
``publication`` (publish, discard, reports, status), ``runs`` (a whole run, intra-day
changes), ``diff`` (regression diff between runs), ``world``, ``generator`` and ``changes``
(the preheat sources' world, their lines and their change events), ``bench`` (``classpulse bench preheat``). The
command line is ``classpulse.commands.preheat``, like every command group.

Versioning and publication
- A run (``dim.preheat_runs``) covers a list of lessons; every output row carries its
  ``run_id``. A lesson's batch ends with its row in ``dim.preheat_lesson_log`` (the run log:
  counts, batch duration, status ``built``/``cancelled``/``no_policy``/``not_found``).
- Publishing is one insert of one row into ``dim.preheat_publications``. Readers use the
  ``dim.*_current`` views, which show each lesson from the published run that built it last
  (``dim.lesson_current_run``), so a reader sees all of a run or none of it, and a run
  covering a few lessons leaves every other lesson on its previous run.
- Lessons whose latest check found errors are withheld at publication (they keep their
  previous run) unless ``force``. Scratch runs (diffs) are never published.

Batches and retries
- :func:`plan_batches` packs the day's lessons, largest first, into batches of at most
  ``max_batch_students`` enrollments (a bigger lesson is a batch of its own) and at most
  :data:`MAX_BATCH_LESSONS` lessons; the Airflow DAG maps batches onto tasks and calls
  :func:`create_run`, :func:`preheat_batch`, :func:`check_batch` or :func:`check_run`,
  :func:`publish_run` and :func:`report`, with :func:`estimate_seconds` as task timeout.
- :func:`preheat_batch` is idempotent: when an earlier attempt of the same batch left rows
  (a retry), they are deleted first.

Checks (``check.sql``) compare a run's lessons with the source as it is at check time:
missing/extra students, assignment drift, members in two groups, rooms and memberships not
matching the policy, dangling members, orphan nodes and roots, policy or schedule changed
since the build (errors); students without a tutor and tutors over capacity (warnings).

Changes (:func:`apply_changes`): change events landed after the last processed one name
what they touch; the lessons they touch get a new run covering only them.

Views for marts and readers (stable names and columns; each shows the current run only)
- ``dim.room_membership_current``: lesson_date, lesson_id, room_id, room_role, student_id,
  tutor_id, tutor_node_id, group_node_id, class_id, run_id — one row per (lesson, room,
  student); join engagement or AV quality on (lesson_date, student_id[, room]).
- ``dim.lesson_student_current``: lesson_date, lesson_id, student_id, tutoring_source,
  tutor_id, tutor_node_id, group_node_id, group_kind, class_id, group_path, run_id — one
  row per (lesson, student): the per-tutor / per-group key without fan-out.
- ``dim.live_room_current``, ``dim.org_node_current``: the rooms and tree nodes;
  ``dim.lesson_current_run`` and ``dim.preheat_lesson_status``: which run each lesson
  shows, its counts and latest check.
Students of minimal-mode lessons are placed on entry, so they have no rows there.
"""

from classpulse.preheat.engine import (
    BUILD_STEPS,
    CHANGE_KINDS,
    DEFAULT_MAX_BATCH_STUDENTS,
    FIXED_SECONDS,
    MAX_BATCH_LESSONS,
    REPOSITORY_ROOT,
    RUN_KINDS,
    SAFETY_FACTOR,
    SECONDS_PER_LESSON,
    SECONDS_PER_STUDENT,
    SQL_DIR,
    BatchResult,
    CheckResult,
    Finding,
    PlannedLesson,
    PreheatError,
    business_today,
    check_batch,
    check_current,
    check_run,
    connect,
    create_run,
    ensure_schema,
    estimate_seconds,
    execute,
    forget_schema,
    new_id,
    pack_batches,
    plan_batches,
    plan_lessons,
    preheat_batch,
    query_sql,
    read_statements,
    run_batches,
    run_sql,
    size_lessons,
)
from classpulse.preheat.generator import CHANGE_TOPIC, PREHEAT_TOPICS
from classpulse.preheat.publication import (
    LessonReport,
    Publication,
    RunReport,
    RunStatus,
    discard_run,
    lesson_report,
    list_runs,
    publish_run,
    report,
)
from classpulse.preheat.runs import ChangeResult, ProgressCallback, apply_changes, run_preheat

__all__ = [
    "BUILD_STEPS",
    "CHANGE_KINDS",
    "RUN_KINDS",
    "BatchResult",
    "CHANGE_TOPIC",
    "ChangeResult",
    "CheckResult",
    "DEFAULT_MAX_BATCH_STUDENTS",
    "FIXED_SECONDS",
    "Finding",
    "LessonReport",
    "MAX_BATCH_LESSONS",
    "PREHEAT_TOPICS",
    "PlannedLesson",
    "PreheatError",
    "ProgressCallback",
    "Publication",
    "REPOSITORY_ROOT",
    "RunReport",
    "RunStatus",
    "SAFETY_FACTOR",
    "SECONDS_PER_LESSON",
    "SECONDS_PER_STUDENT",
    "SQL_DIR",
    "apply_changes",
    "business_today",
    "check_batch",
    "check_current",
    "check_run",
    "connect",
    "create_run",
    "discard_run",
    "ensure_schema",
    "estimate_seconds",
    "execute",
    "forget_schema",
    "lesson_report",
    "list_runs",
    "new_id",
    "pack_batches",
    "plan_batches",
    "plan_lessons",
    "preheat_batch",
    "publish_run",
    "query_sql",
    "read_statements",
    "report",
    "run_batches",
    "run_preheat",
    "run_sql",
    "size_lessons",
]
