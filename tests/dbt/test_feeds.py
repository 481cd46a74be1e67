"""Which suites a run over some topics gates (classpulse.feeds), from the real lineage: dbt's
manifest (``dbt parse``), the landing tables and the Flink jobs of this repository."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from classpulse.config import load_settings
from classpulse.dbt import run_dbt
from classpulse.feeds import fed_suites, table_sources
from classpulse.quality import SUITES_DIRECTORY, discover_suite_files, load_suite

LIVE = (
    "classroom_enter",
    "classroom_av_sample",
    "classroom_device_sample",
    "classroom_courseware_event",
    "classroom_help_request",
)


def test_only_the_marts_the_topics_feed_are_gated(tmp_path: Path) -> None:
    settings = replace(load_settings(), home=tmp_path / "home")
    run_dbt(settings, ["parse"])
    tables = table_sources(settings)
    assert tables["ads.room_user_labels_30s"] == set(LIVE) - {"classroom_help_request"}
    assert tables["ads.help_request_triage"] == set(LIVE)
    assert tables["ads.av_quality_30s"] == {"agora_record"}
    assert tables["ods.agora_record_clean"] == {"agora_record"}

    suites = [
        load_suite(path).name for path in discover_suite_files(settings.root / SUITES_DIRECTORY)
    ]
    gated, skipped = fed_suites(settings, suites, LIVE)
    assert sorted(gated + skipped) == sorted(suites)
    for name in (
        "ads.room_user_labels_30s",
        "ads.help_request_triage",
        "ads.help_triage_daily",
        "rt.room_user_labels_30s",
        "rt.help_request_triage",
        "ads.rt_vs_offline_reconciliation",
        "ods.topic_accounting",
        "ods.rejected_messages",
    ):
        assert name in gated, name
    for name in ("ads.av_quality_30s", "rt.classroom_performance_1min", "ods.qos_log_clean"):
        assert name in skipped, name

    gated, skipped = fed_suites(settings, suites, ["agora_record"])
    assert "ads.av_quality_30s" in gated
    assert "ads.help_request_triage" in skipped and "rt.room_user_labels_30s" in skipped
