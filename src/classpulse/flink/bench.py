"""The Flink layer's throughput, side by side in one run on the same topic files.

- ``pipeline``: every job (cleaning, then the marts), bounded, on the local mini-cluster:
  source messages per second of wall time, engine start excluded (paid once per process).
- ``timeline: ours`` against ``timeline: seed style``: the courseware cleaning alone. Ours is
  ``clean_timeline_client_topic``; the seed style is the seed's scene 1 rebuilt on Flink 2.3:
  one INSERT per event type over the raw topic, ``JSON_VALUE`` once per field and condition
  (the seven INSERTs share one scan in a statement set, which is generous to the seed).
- ``timeline: chDB``: the ClickHouse engine parsing the same raw lines (``LineAsString`` and
  ``JSONExtract``), classifying and counting per minute: the ceiling this machine sets.

Each measurement is the median of ``repeats`` runs; runs alternate between the approaches so
machine noise hits them alike. The topic files are hard-linked into a scratch directory, so the
caller's topics root is only read.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from classpulse.config import load_settings
from classpulse.flink.accounting import count_lines
from classpulse.flink.runner import RunOptions, load_catalog, run_jobs, table_paths
from classpulse.flink.session import FlinkSession, SessionOptions

TIMELINE = "timeline_client_topic"
SEED_RULES = (
    ("STUDENT_MOVE_PICTURE", None, "shape", "move", None),
    ("STUDENT_HOVER_PICTURE", None, "shape", "mouse", "over"),
    ("STUDENT_LINE_DRAW", None, "shape", "add", None),
    ("STUDENT_AUDIO_PLAY", None, "template", "audio", "start"),
    ("STUDENT_AUDIO_PAUSE", None, "template", "audio", "pause"),
    ("STUDENT_MATCH_WRONG", "match", "template", "match", "drop:wrong"),
    ("STUDENT_MATCH_CORRECT", "match", "template", "match", "drop:correct"),
)
SEED_FIELDS = (
    ("messageCreateTime", "$.createTime"),
    ("messageTimeStamp", "$.data.timestamp"),
    ("userId", "$.data.userid"),
    ("roomId", "$.data.roomid"),
    ("role", "$.data.role"),
    ("msgId", "$.data.msgid"),
    ("msgType", "$.data.msg.msgtype"),
    ("targetId", "$.data.msg.msg_data.target_id"),
    ("targetType", "$.data.msg.msg_data.target_type"),
    ("action", "$.data.msg.msg_data.action"),
    ("subAction", "$.data.msg.msg_data.sub_action"),
    ("pageIndex", "$.data.msg.msg_data.page_index"),
)


def link_topics(source: Path, target: Path, topics: list[str]) -> None:
    """Hard-link (or copy across file systems) the complete files of ``topics``."""
    for topic in topics:
        directory = source / topic
        if not directory.is_dir():
            continue
        (target / topic).mkdir(parents=True, exist_ok=True)
        for path in directory.iterdir():
            if path.is_file() and not path.name.startswith("."):  # hidden files only
                try:
                    os.link(path, target / topic / path.name)
                except OSError:
                    shutil.copy2(path, target / topic / path.name)


def seed_style_statements(timeline_dir: Path, out_dir: Path) -> tuple[list[str], list[str]]:
    """DDL and the seven INSERTs of the seed's scene 1, JSON_VALUE per field and condition."""
    columns = ",\n".join(f"    `{name}` STRING" for name, _ in SEED_FIELDS)
    ddl = [
        f"CREATE TEMPORARY TABLE seed_timeline_raw (message STRING) WITH ("
        f"'connector' = 'filesystem', 'path' = '{timeline_dir}', 'format' = 'raw')",
        f"CREATE TEMPORARY TABLE seed_timeline_events (\n{columns},\n    `event` STRING\n) WITH ("
        f"'connector' = 'filesystem', 'path' = '{out_dir}', 'format' = 'json')",
    ]
    inserts = []
    for event, target_id, target_type, action, sub_action in SEED_RULES:
        conditions = [
            "JSON_VALUE(message, '$.data.msgid') = '305'",
            "JSON_VALUE(message, '$.data.msg.msgtype') = '116'",
            "JSON_VALUE(message, '$.data.role') = '2'",
            f"JSON_VALUE(message, '$.data.msg.msg_data.target_type') = '{target_type}'",
            f"JSON_VALUE(message, '$.data.msg.msg_data.action') = '{action}'",
        ]
        if target_id is not None:
            conditions.append(
                f"JSON_VALUE(message, '$.data.msg.msg_data.target_id') = '{target_id}'"
            )
        if sub_action is not None:
            conditions.append(
                f"JSON_VALUE(message, '$.data.msg.msg_data.sub_action') = '{sub_action}'"
            )
        values = ", ".join(f"JSON_VALUE(message, '{path}')" for _, path in SEED_FIELDS)
        inserts.append(
            f"INSERT INTO seed_timeline_events SELECT {values}, '{event}' "
            f"FROM seed_timeline_raw WHERE {' AND '.join(conditions)}"
        )
    return ddl, inserts


CHDB_TIMELINE = """
SELECT event, count() AS events, uniqExact(minute) AS minutes
FROM (
    SELECT
        JSONExtractString(line, 'data', 'msg', 'msg_data', 'target_id') AS target_id,
        JSONExtractString(line, 'data', 'msg', 'msg_data', 'target_type') AS target_type,
        JSONExtractString(line, 'data', 'msg', 'msg_data', 'action') AS action,
        JSONExtractString(line, 'data', 'msg', 'msg_data', 'sub_action') AS sub_action,
        toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(line, 'createTime'))) AS created,
        toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(line, 'data', 'userid'))) AS user_id,
        toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(line, 'data', 'roomid'))) AS room_id,
        toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(line, 'data', 'timestamp'))) AS client,
        toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(line, 'data', 'role'))) AS role,
        toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(line, 'data', 'msgid'))) AS msg_id,
        toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(line, 'data', 'msg', 'msgtype'))) AS msg_type,
        intDiv(client, 60000) AS minute,
        multiIf(
            NOT isValidJSON(line) OR created IS NULL OR user_id IS NULL OR room_id IS NULL
                OR client IS NULL OR role IS NULL OR msg_id IS NULL OR msg_type IS NULL,
                'rejected',
            client - created > 300000, 'rejected',
            msg_id != 305 OR msg_type != 116 OR role != 2, 'none',
            target_type = 'shape' AND action = 'move', 'STUDENT_MOVE_PICTURE',
            target_type = 'shape' AND action = 'mouse' AND sub_action = 'over',
                'STUDENT_HOVER_PICTURE',
            target_type = 'shape' AND action = 'add', 'STUDENT_LINE_DRAW',
            target_type = 'template' AND action = 'audio' AND sub_action = 'start',
                'STUDENT_AUDIO_PLAY',
            target_type = 'template' AND action = 'audio' AND sub_action = 'pause',
                'STUDENT_AUDIO_PAUSE',
            target_id = 'match' AND target_type = 'template' AND action = 'match'
                AND sub_action = 'drop:wrong', 'STUDENT_MATCH_WRONG',
            target_id = 'match' AND target_type = 'template' AND action = 'match'
                AND sub_action = 'drop:correct', 'STUDENT_MATCH_CORRECT',
            'none') AS event
    FROM file('{pattern}', 'LineAsString')
)
GROUP BY event
"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_flink_benchmark(
    topics_dir: Path,
    repeats: int = 3,
    *,
    parallelism: int = 2,
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure ours, the seed's approach and chDB on ``topics_dir``; medians of ``repeats``."""
    import chdb

    settings = load_settings()
    catalog = load_catalog(settings.root, "local")
    written = set().union(*(job.outputs for job in catalog.jobs))
    source_tables = sorted(set().union(*(job.inputs for job in catalog.jobs)) - written)
    paths = table_paths({table.name: table.ddl for table in catalog.tables})
    source_topics = [Path(paths[name]).name for name in source_tables if name in paths]

    scratch = Path(tempfile.mkdtemp(prefix="classpulse-bench-flink-"))
    try:
        topics = scratch / "topics"
        link_topics(topics_dir, topics, source_topics)
        messages = sum(count_lines(topics / topic) for topic in source_topics)
        timeline_messages = count_lines(topics / TIMELINE)
        if not timeline_messages:
            raise ValueError(f"no {TIMELINE} files under {topics_dir}; run `classpulse generate`")

        started = time.perf_counter()
        session = FlinkSession(SessionOptions(parallelism=parallelism))
        engine_start = time.perf_counter() - started
        run_settings = load_settings(
            {"CLASSPULSE_HOME": str(scratch / "home"), "CLASSPULSE_TOPICS_DIR": str(topics)}
        )

        def ours(jobs: tuple[str, ...]) -> Callable[[], float]:
            def run() -> float:
                result = run_jobs(
                    RunOptions(jobs=jobs, topics_dir=topics, parallelism=parallelism),
                    settings=run_settings,
                    session=session,
                )
                return sum(wave.seconds for wave in result.waves)

            return run

        seed_out = scratch / "seed_out"
        ddl, inserts = seed_style_statements(topics / TIMELINE, seed_out)

        def seed_style() -> float:
            shutil.rmtree(seed_out, ignore_errors=True)
            for statement in (
                "DROP TEMPORARY TABLE IF EXISTS seed_timeline_raw",
                "DROP TEMPORARY TABLE IF EXISTS seed_timeline_events",
                *ddl,
            ):
                session.table_env.execute_sql(statement)
            started = time.perf_counter()
            session.statement_set(inserts).execute().wait()
            return time.perf_counter() - started

        pattern = str(topics / TIMELINE / "*")

        def chdb_timeline() -> float:
            started = time.perf_counter()
            chdb.query(CHDB_TIMELINE.format(pattern=pattern), "CSV")
            return time.perf_counter() - started

        approaches: dict[str, Callable[[], float]] = {
            "pipeline": ours(()),
            "timeline: ours": ours(("clean_timeline_client_topic",)),
            "timeline: seed style": seed_style,
            "timeline: chDB": chdb_timeline,
        }
        seconds: dict[str, list[float]] = {name: [] for name in approaches}
        ours(("clean_timeline_client_topic",))()  # warm the JIT once, untimed
        for round_number in range(repeats):
            for name, action in approaches.items():
                if console is not None:
                    console.log(f"round {round_number + 1}/{repeats}: {name}")
                seconds[name].append(action())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    counts = {
        "pipeline": messages,
        "timeline: ours": timeline_messages,
        "timeline: seed style": timeline_messages,
        "timeline: chDB": timeline_messages,
    }
    results = {
        name: {
            "messages": counts[name],
            "seconds": values,
            "median_seconds": median(values),
            "messages_per_second": counts[name] / median(values),
        }
        for name, values in seconds.items()
    }
    ours_rate = results["timeline: ours"]["messages_per_second"]
    return {
        "topics_dir": str(topics_dir),
        "repeats": repeats,
        "parallelism": parallelism,
        "cpus": os.cpu_count(),
        "engine_start_seconds": engine_start,
        "messages": messages,
        "timeline_messages": timeline_messages,
        "results": results,
        "ratios": {
            "ours / seed style": ours_rate / results["timeline: seed style"]["messages_per_second"],
            "chDB / ours": results["timeline: chDB"]["messages_per_second"] / ours_rate,
        },
    }


def print_flink_benchmark(report: dict[str, Any], console: Console | None = None) -> None:
    """The benchmark as a table: messages, median seconds, messages per second, vs ours."""
    console = console or Console()
    table = Table(
        title=(
            f"Flink throughput (median of {report['repeats']}, parallelism "
            f"{report['parallelism']} on {report['cpus']} CPUs)"
        ),
        header_style="bold cyan",
    )
    for column in ("measurement", "messages", "median", "msg/s", "vs timeline: ours"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    ours_rate = report["results"]["timeline: ours"]["messages_per_second"]
    for name, item in report["results"].items():
        relative = "" if name == "pipeline" else f"{item['messages_per_second'] / ours_rate:.2f}x"
        table.add_row(
            name,
            f"{item['messages']:,}",
            f"{item['median_seconds']:.2f} s",
            f"{item['messages_per_second']:,.0f}",
            relative,
        )
    console.print(table)
    console.print(
        f"engine start (once per process): {report['engine_start_seconds']:.1f} s; "
        f"ours / seed style = {report['ratios']['ours / seed style']:.2f}x, "
        f"chDB / ours = {report['ratios']['chDB / ours']:.2f}x"
    )
