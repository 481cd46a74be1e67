"""`classpulse preheat …` end to end through click, against the session's real warehouse."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from preheat_world import rows

from classpulse.cli import main
from classpulse.config import Settings

DAY = "2026-03-09"


def invoke(*arguments: str) -> Result:
    return CliRunner(env={"COLUMNS": "160"}).invoke(main, ["preheat", *arguments])


def test_the_preheat_commands_work_end_to_end(warehouse: Settings, tmp_path: Path) -> None:
    topics = str(tmp_path / "topics")
    generated = invoke(
        "generate",
        *("--out", topics, "--seed", "12", "--scale", "0.3", "--start", DAY),
        *("--max-lesson-students", "800", "--huge-lesson", "1200"),
    )
    assert generated.exit_code == 0, generated.output
    assert "enrollments" in generated.output

    ran = invoke("run", "--day", DAY, "--topics", topics, "--max-batch-students", "1500")
    assert ran.exit_code == 0, ran.output
    assert "preheat run" in ran.output and "withheld" in ran.output
    ((run_id, lessons),) = rows(
        warehouse,
        "SELECT run_id, length(lesson_ids) FROM dim.preheat_runs WHERE run_day = {day:String} "
        "AND run_kind = 'day' ORDER BY run_id DESC LIMIT 1",
        day=DAY,
    )
    assert lessons > 5

    status = invoke("status")
    assert status.exit_code == 0 and str(run_id) in status.output
    one = invoke("status", str(run_id))
    assert one.exit_code == 0 and "lessons" in one.output and "members" in one.output

    checked = invoke("check", str(run_id))
    assert checked.exit_code == 0, checked.output
    assert (
        f"checked {lessons} lesson(s)" in checked.output and "0 error finding(s)" in checked.output
    )
    published = invoke("check", "--published", "--day", DAY)
    assert published.exit_code == 0 and "0 error finding(s)" in published.output

    same = invoke("diff", str(run_id), str(run_id))
    assert same.exit_code == 0 and f"0 of {lessons} lesson(s) differ" in same.output
    logic = invoke("diff", "--against-current-logic", "--day", DAY, "--topics", topics)
    assert logic.exit_code == 0, logic.output
    assert f"0 of {lessons} lesson(s) differ" in logic.output

    again = invoke("publish", str(run_id))
    assert again.exit_code == 0 and "already published" in again.output

    changes = invoke("apply-changes", "--no-load")
    assert changes.exit_code == 0, changes.output

    more = invoke("generate", "--out", topics, "--seed", "12", "--start", DAY, "--changes", "3")
    assert more.exit_code == 0 and "touches" in more.output


def test_preheat_errors_are_clear(warehouse: Settings) -> None:
    neither = invoke("check")
    assert neither.exit_code == 2 and "RUN_ID or --published" in neither.output
    unknown = invoke("publish", "1")
    assert unknown.exit_code == 1 and "no run 1" in unknown.output
    half = invoke("diff", "5")
    assert half.exit_code == 2 and "RUN_A and RUN_B" in half.output
    missing = invoke("status", "1")
    assert missing.exit_code == 1 and "no run 1" in missing.output
    bad_day = invoke("run", "--day", "21-11-2026", "--no-load")
    assert bad_day.exit_code == 2 and "YYYY-MM-DD" in bad_day.output
    empty = invoke("run", "--day", "1999-01-01", "--no-load")
    assert empty.exit_code == 1 and "no lessons on 1999-01-01" in empty.output
