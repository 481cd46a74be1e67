"""Issue 13: the recorded_course_enter_time reconciliation holds with late PPT_START/PPT_PAGE
events and a late PPT_SUCCESS without an earlier event, through the real Flink jobs, loader and
dbt (a late event of any sub_event may add, remove or move a row, never one row per event)."""

from __future__ import annotations

from pathlib import Path

from kafka_helpers import run_settings
from qos_lines import MINUTE, TEN, qos

from classpulse import pipeline
from classpulse.config import Settings
from classpulse.warehouse import get_client

# Arrival order; the watermark trails the greatest data_time by 10 s (the default delay).
LINES = [
    qos(1, "PPT_START", TEN),
    qos(1, "PPT_SUCCESS", TEN + 5 * MINUTE),
    qos(2, "PPT_PAGE", TEN + 20 * MINUTE),
    qos(9, "PPT_PAGE", TEN + 60 * MINUTE),  # the watermark passes 10:59:50
    qos(2, "PPT_START", TEN + 10 * MINUTE),  # late start: rt measures from the page
    qos(3, "PPT_START", TEN + 30 * MINUTE),  # late start: rt has no earlier event for 3
    qos(4, "PPT_SUCCESS", TEN + 40 * MINUTE),  # late, no earlier event at all: no row anywhere
    qos(2, "PPT_SUCCESS", TEN + 61 * MINUTE),
    qos(3, "PPT_SUCCESS", TEN + 62 * MINUTE),
    qos(5, "PPT_START", TEN + 63 * MINUTE),
    qos(9, "PPT_PAGE", TEN + 90 * MINUTE),  # the watermark passes 11:29:50
    qos(5, "PPT_SUCCESS", TEN + 65 * MINUTE),  # late success of an on-time session
]


def test_recorded_course_reconciliation_holds_for_late_starts_through_flink(
    dbt_warehouse: Settings, empty_kafka: Settings, tmp_path: Path
) -> None:
    settings = run_settings(dbt_warehouse, empty_kafka, tmp_path)
    (settings.topics_dir / "qos_log").mkdir(parents=True)
    (settings.topics_dir / "qos_log" / "20261120T020000Z.jsonl").write_text("\n".join(LINES) + "\n")

    pipeline.run_flink(settings, jobs=("clean_qos_log", "mart_recorded_course_enter_time"))
    pipeline.load(settings)
    pipeline.build(settings)

    client = get_client(settings)
    late = sorted(
        (user_id, event)
        for user_id, event in client.query(
            "SELECT user_id, event FROM ods.late_events WHERE mart = 'recorded_course_enter_time'"
        ).result_rows
    )
    assert late == [(2, "PPT_START"), (3, "PPT_START"), (4, "PPT_SUCCESS"), (5, "PPT_SUCCESS")]
    spend = dict(
        client.query("SELECT user_id, spend_time FROM rt.recorded_course_enter_time").result_rows
    )
    assert spend == {1: 5 * MINUTE, 2: 41 * MINUTE}  # 2 from its page: the start was late
    spend = dict(
        client.query("SELECT user_id, spend_time FROM ads.recorded_course_enter_time").result_rows
    )
    assert spend == {1: 5 * MINUTE, 2: 51 * MINUTE, 3: 32 * MINUTE, 5: 2 * MINUTE}
    assert client.query(
        "SELECT rt_total, ads_total, late_events, explained_by_late, unexplained, "
        "toString(status) FROM ads.rt_vs_offline_reconciliation "
        "WHERE mart = 'recorded_course_enter_time'"
    ).result_rows == [(2, 4, 4, 2, 0, "ok")]
