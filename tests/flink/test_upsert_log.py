"""Updating marts are upsert logs: versions grow per key, a vanished key is a delete.

Mini-batching is switched off so that every change of the aggregate is emitted (with it, changes
inside one batch fold into one row); the orders are in one file, produced and read in line
order (one id, one partition).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flink_helpers import latest_versions, read_topic, run_all
from flink_scenario import order

from classpulse.config import Settings
from classpulse.flink.session import FlinkSession


def cc_tracking_log(
    session: FlinkSession,
    kafka: Settings,
    tmp_path: Path,
    orders: list[str],
    config: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The cc_daily_tracking log of ``orders`` (one file, produced and read in line order)."""
    topics = tmp_path / "topics"
    (topics / "data_pack_order_info").mkdir(parents=True)
    (topics / "data_pack_order_info" / "orders.jsonl").write_text("\n".join(orders) + "\n")
    run = run_all(
        session,
        kafka,
        tmp_path / "home",
        topics,
        ("clean_data_pack_order_info", "mart_cc_daily_tracking"),
        config=config,
    )
    return read_topic(run, "cc_daily_tracking")


def test_versions_resolve_updates_and_deletes_without_double_counting(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    log = cc_tracking_log(
        flink_session,
        flink_kafka,
        tmp_path,
        [
            order("o1", 7, 3, "2026-11-20 10:00:00", "10:00:00"),
            order("o2", 7, 3, "2026-11-20 11:00:00", "11:00:00"),
            order("o3", 10, 3, "2026-11-20 12:00:00", "12:00:00"),
            order("o2", 7, 4, "2026-11-20 11:00:00", "12:30:00"),  # o2 leaves
            order("o3", 10, 2, "2026-11-20 12:00:00", "12:40:00"),  # cc 10's only order leaves
        ],
        config={"table.exec.mini-batch.enabled": "false"},
    )
    cc7 = sorted(
        (row["version"], row["cc_index"], row["is_deleted"]) for row in log if row["cc_id"] == 7
    )
    assert [(index, deleted) for _, index, deleted in cc7] == [(1, 0), (2, 0), (1, 0)]
    assert len({version for version, _, _ in cc7}) == 3  # strictly growing versions
    assert sum(index for _, index, _ in cc7) == 4  # what appending every row would count
    cc10 = sorted(
        (row["version"], row["cc_index"], row["is_deleted"]) for row in log if row["cc_id"] == 10
    )
    assert [(index, deleted) for _, index, deleted in cc10] == [(1, 0), (1, 1)]
    current = latest_versions(log, ("cc_id", "type", "attribution_date"))
    assert {key: row["cc_index"] for key, row in current.items()} == {(7, 1, "2026-11-20"): 1}


def test_latest_version_of_a_tie_may_have_no_confirm_time(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    """Ties on update_time go to the later line, and a NULL confirm_date_time in that version
    stays NULL (the order is not confirmed) whatever an earlier version carried."""
    log = cc_tracking_log(
        flink_session,
        flink_kafka,
        tmp_path,
        [
            order("p1", 12, 3, "2026-11-21 09:00:00", "09:00:00"),
            order("p1", 12, 3, None, "09:00:00"),  # tie: the later line, unconfirmed, wins
            order("p2", 12, 3, "2026-11-21 10:00:00", "10:00:00"),
            order("p3", 13, 3, None, "11:00:00"),
            order("p3", 13, 3, "2026-11-22 11:00:00", "11:00:00"),  # tie: confirmed wins
            order("p4", 14, 3, "2026-11-21 08:00:00", "12:00:00"),
            order("p4", 14, 3, None, "11:59:59"),  # older: loses although later in the file
        ],
    )
    current = latest_versions(log, ("cc_id", "type", "attribution_date"))
    assert {key: (row["cc_index"], row["update_time"]) for key, row in current.items()} == {
        (12, 1, "2026-11-21"): (1, "2026-11-20 10:00:00"),
        (13, 1, "2026-11-22"): (1, "2026-11-20 11:00:00"),
        (14, 1, "2026-11-21"): (1, "2026-11-20 12:00:00"),
    }
