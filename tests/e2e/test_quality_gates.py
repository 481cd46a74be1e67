"""Issue 4: the committed quality suites pass on a clean pipeline day and fail on
deliberately corrupted rows (each corruption undone afterwards)."""

from __future__ import annotations

import pytest

from classpulse.quality import SUITES_DIRECTORY, run_quality, select_suite_files
from classpulse.warehouse import get_client


def suites(settings, *names: str):
    return select_suite_files(settings.root / SUITES_DIRECTORY, names=names)


def test_every_suite_passes_on_the_pipeline_day(pipeline_day):
    report = run_quality(pipeline_day.settings, build_docs=True)
    assert report.success, [
        (r.suite, [o.name for o in r.outcomes if not o.success]) for r in report.failed
    ]
    assert len(report.results) == len(suites(pipeline_day.settings))
    assert report.docs_index is not None and report.docs_index.is_file()


CORRUPTIONS = [
    # (suite, statement that breaks it, statement that undoes it)
    (
        "ads/classroom_performance_1min",
        "INSERT INTO ads.classroom_performance_1min SELECT * FROM ads.classroom_performance_1min LIMIT 1",
        "ALTER TABLE ads.classroom_performance_1min DELETE WHERE 1 SETTINGS mutations_sync = 2",
    ),
    (
        "ods/rejected_messages",
        "INSERT INTO ods.rejected_messages (topic, payload, reason, source_split, ingested_at, "
        "processed_at) VALUES ('qos_log', '{', 'malformed_json', 'corrupt', now(), now())",
        "DELETE FROM ods.rejected_messages WHERE source_split = 'corrupt'",
    ),
    (
        "ods/timeline_analysis_student",
        "INSERT INTO ods.timeline_analysis_student (sourceSplit, messageCreateTime, messageTimeStamp, "
        "userId, roomId, role, msgId, msgType, event, ingestedAt, processedAt) "
        "VALUES ('corrupt', 1795100000000, 1795100900000, 1, 1, 2, 305, 116, 'STUDENT_DANCE', now(), now())",
        "DELETE FROM ods.timeline_analysis_student WHERE sourceSplit = 'corrupt'",
    ),
    (
        "ods/uc_account_user_clean",
        "INSERT INTO ods.uc_account_user_clean (source_split, id, name, register_date_time, "
        "status, update_time, message_seq, ingested_at, processed_at) VALUES ('corrupt', '1', "
        "'x', '2024-02-30 10:00:00', 'NORMAL', '2026-11-20 10:00:00', 0, now(), now())",
        "DELETE FROM ods.uc_account_user_clean WHERE source_split = 'corrupt'",
    ),
    (
        "rt/registrations_hourly_by_level",
        "INSERT INTO rt.registrations_hourly_by_level_log (reg_hour, level, leads, version, is_deleted, "
        "processed_at) VALUES (2026112009, 'E', 3, 1, 0, now())",
        "DELETE FROM rt.registrations_hourly_by_level_log WHERE level = 'E'",
    ),
]


@pytest.mark.parametrize(("suite", "corrupt", "undo"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_a_suite_fails_on_corrupted_rows(pipeline_day, suite, corrupt, undo):
    from classpulse import pipeline

    settings = pipeline_day.settings
    client = get_client(settings)
    assert run_quality(settings, suites(settings, suite), build_docs=False).success
    client.command(corrupt)
    try:
        report = run_quality(settings, suites(settings, suite), build_docs=False)
        assert not report.success, suite
    finally:
        client.command(undo)
        pipeline.build(settings)  # derived tables back to clean for later tests
    assert run_quality(settings, suites(settings, suite), build_docs=False).success
