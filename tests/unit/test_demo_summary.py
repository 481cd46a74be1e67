"""Issue 13: the demo prints the quality gate's real verdict, not a fixed "passed"."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from classpulse.commands.demo import _print_summary
from classpulse.config import load_settings
from classpulse.demo import DemoState

SUMMARY = {
    "accounting": [("qos_log", 3, 2, 1)],
    "rejected_by_reason": [("malformed_json", 1)],
    "late_by_mart": [],
    "mart_rows": {"rt.cc_daily_tracking": 1, "ads.cc_daily_tracking": 1},
    "reconciliation_ok": (1, 1),
}


def printed(tmp_path: Path, report: dict | None) -> str:
    state = DemoState(tmp_path / "state.json", {}, {"report": report} if report else {})
    console = Console(record=True, width=200)
    _print_summary(console, load_settings({}), state, SUMMARY, {}, 1.0)
    return console.export_text()


def test_the_demo_prints_the_gates_verdict(tmp_path: Path) -> None:
    failed = printed(
        tmp_path, {"path": "r.html", "quality_passed": False, "quality_failed": ["ads/x"]}
    )
    assert "quality gate: FAILED (ads/x)" in failed
    assert "quality gate: passed" not in failed
    passed = printed(tmp_path, {"path": "r.html", "quality_passed": True, "quality_failed": []})
    assert "quality gate: passed" in passed
    assert "quality gate: not run" in printed(tmp_path, None)
