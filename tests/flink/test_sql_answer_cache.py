"""The Flink SQL readers' answers are kept on disk: a process reading job files read before
starts no JVM and imports no sqlfluff, and gets the same reading as the parser's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from classpulse.answer_cache import AnswerCache
from classpulse.config import load_settings
from classpulse.flink.runner import load_catalog
from classpulse.flink.sqltokens import FLINK_SQL_ANSWERS

ROOT = load_settings().root

# what a fresh process loaded: sqlfluff, PyFlink's JVM gateway (a global of pyflink.java_gateway)
PROBE = """
gateway = sys.modules.get("pyflink.java_gateway")
loaded = {
    "sqlfluff": any(name.split(".")[0] == "sqlfluff" for name in sys.modules),
    "jvm": gateway is not None and getattr(gateway, "_gateway", None) is not None,
}
"""

READ_ALL_JOBS = (
    """
import json, sys
from pathlib import Path
from classpulse.flink.runner import load_catalog
catalog = load_catalog(Path(sys.argv[1]), "kafka")
"""
    + PROBE
    + """
jobs = {
    job.name: [sorted(job.inputs), sorted(job.outputs), [view for view, _ in job.views]]
    for job in catalog.jobs
}
tables = {table.name: table.has_watermark for table in catalog.tables}
print(json.dumps({"jobs": jobs, "tables": tables, **loaded}))
"""
)

READ_ONE = (
    """
import json, sys
from dataclasses import asdict
from classpulse.flink.sqlfiles import SqlFileError, split_statements
from classpulse.flink.sqlparser import read_statement
try:
    (statement,) = split_statements(sys.argv[1])
    reading = asdict(read_statement(statement))
except SqlFileError as exc:
    reading = {"error": str(exc)}
"""
    + PROBE
    + """
print(json.dumps({"reading": reading, **loaded}))
"""
)


def run(script: str, argument: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, argument],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def reading_of(catalog) -> dict:
    jobs = {
        job.name: [sorted(job.inputs), sorted(job.outputs), [view for view, _ in job.views]]
        for job in catalog.jobs
    }
    return {"jobs": jobs, "tables": {table.name: table.has_watermark for table in catalog.tables}}


def test_a_second_process_reads_every_job_without_jvm_or_sqlfluff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = run(READ_ALL_JOBS, str(ROOT))  # fills the cache where a file changed
    later = run(READ_ALL_JOBS, str(ROOT))
    assert later["jvm"] is False
    assert later["sqlfluff"] is False
    # the files are all read: one job per file, the same reading as the parser's, asked now
    # with the disk answers hidden (this process lexes and parses every statement itself)
    monkeypatch.setattr(FLINK_SQL_ANSWERS, "answer", lambda kind, question, ask: ask())
    from classpulse.flink import sqlparser, sqltokens

    sqlparser.read_statement.cache_clear()
    sqltokens._KNOWN.clear()
    try:
        parsed = reading_of(load_catalog(ROOT, "kafka"))
    finally:
        sqlparser.read_statement.cache_clear()
        sqltokens._KNOWN.clear()
    assert sorted(later["jobs"]) == sorted(
        path.stem for path in (ROOT / "flink_sql/jobs").glob("*.sql")
    )
    assert later["jobs"] == parsed["jobs"] == first["jobs"]
    assert later["tables"] == parsed["tables"]
    assert any(inputs for inputs, _, _ in later["jobs"].values())
    assert not list(FLINK_SQL_ANSWERS.directory.glob("*.tmp"))  # written whole, then renamed


def test_a_new_statement_starts_the_parser_once() -> None:
    marker = uuid.uuid4().hex  # a text no process read before
    text = (
        "insert into sink_table\n"
        f"select 'x{marker}' as mart, b.id from source_table as a join other as b on a.id = b.id\n"
        "where a.note is null"
    )
    cold = run(READ_ONE, text)
    assert cold["jvm"] is True  # the probe sees a JVM started
    assert cold["sqlfluff"] is True
    warm = run(READ_ONE, text)
    assert warm["jvm"] is False
    assert warm["sqlfluff"] is False
    assert warm["reading"] == cold["reading"]
    assert warm["reading"]["kind"] == "insert"
    assert warm["reading"]["name"] == "sink_table"
    assert warm["reading"]["reads"] == ["source_table", "other"]
    assert warm["reading"]["aliased_literals"] == [["mart", f"x{marker}"]]
    assert warm["reading"]["where_is_null"] == "a.note"


def test_a_rejection_is_kept_too() -> None:
    text = f"insert into sink_table selec 'y{uuid.uuid4().hex}' from source_table"
    cold = run(READ_ONE, text)
    assert cold["jvm"] is True
    warm = run(READ_ONE, text)
    assert warm["jvm"] is False
    assert warm["sqlfluff"] is False
    assert "Flink's SQL parser rejects it" in warm["reading"]["error"]
    assert warm["reading"] == cold["reading"]


def test_the_key_changes_with_the_format_and_the_text() -> None:
    one = AnswerCache("x", ["sqlfluff"], 1)
    other = AnswerCache("x", ["sqlfluff"], 2)
    assert one.path("tokens", "select 1") != other.path("tokens", "select 1")
    assert one.path("tokens", "select 1") != one.path("tokens", "select 2")
    assert one.path("tokens", "select 1") != one.path("statement", "select 1")


@pytest.fixture
def small_cache() -> Iterator[AnswerCache]:
    """A cache of its own folder under .cache/, keeping at most three answers."""
    cache = AnswerCache(f"test-answers-{uuid.uuid4().hex}", ["sqlfluff"], 1, limit=3)
    yield cache
    shutil.rmtree(cache.directory, ignore_errors=True)


def asked(answers: list[str], answer: str):
    """An ``ask`` that records that it was asked."""

    def ask() -> str:
        answers.append(answer)
        return answer

    return ask


def test_a_failed_write_keeps_nothing_and_leaves_no_temporary_file(
    small_cache: AnswerCache,
) -> None:
    unwritable = "select '\ud800'"  # a lone surrogate is no UTF-8: the write fails midway
    calls: list[str] = []
    assert small_cache.answer("tokens", "q", asked(calls, unwritable)) == unwritable
    assert list(small_cache.directory.iterdir()) == []
    assert small_cache.answer("tokens", "q", asked(calls, "again")) == "again"
    assert calls == [unwritable, "again"]  # nothing was kept: asked again
    assert [path.name for path in small_cache.directory.iterdir()] == [
        small_cache.path("tokens", "q").name
    ]


def test_the_folder_is_pruned_to_its_limit_least_recently_used_first(
    small_cache: AnswerCache,
) -> None:
    calls: list[str] = []
    for number in range(3):
        small_cache.answer("tokens", f"q{number}", asked(calls, f"a{number}"))
    # written a minute, 40 s and 20 s ago; then q0 is read: the most recently used
    now = time.time()
    for number, age in enumerate((60, 40, 20)):
        path = small_cache.path("tokens", f"q{number}")
        os.utime(path, (now - age, now - age))
    assert small_cache.answer("tokens", "q0", asked(calls, "not asked")) == "a0"
    small_cache.answer("tokens", "q3", asked(calls, "a3"))
    small_cache.answer("tokens", "q4", asked(calls, "a4"))
    kept = sorted(path.name for path in small_cache.directory.iterdir())
    expected = sorted(small_cache.path("tokens", f"q{n}").name for n in (0, 3, 4))
    assert kept == expected  # q1 and q2, the least recently used, went
    assert calls == ["a0", "a1", "a2", "a3", "a4"]
    assert small_cache.answer("tokens", "q1", asked(calls, "a1 again")) == "a1 again"
