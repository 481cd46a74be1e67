"""Issue 4: the offline marts, reconciliation, accounting and exactly-once landing, on a
generated day produced into Kafka and run through the streaming pipeline, landing and dbt."""

from __future__ import annotations

import json
from collections import Counter

from classpulse import pipeline
from classpulse.warehouse import get_client

MART_QUERIES = {
    "classroom_performance_1min": "SELECT formatDateTime(start_time, '%F %T') AS start_time, "
    "formatDateTime(end_time, '%F %T') AS end_time, webserver_id, user_id, role, "
    "toString(event) AS event, event_count FROM ads.classroom_performance_1min",
    "av_quality_30s": "SELECT formatDateTime(start_time, '%F %T') AS start_time, "
    "formatDateTime(end_time, '%F %T') AS end_time, user_id, web_server_id, classroom_id, "
    "toString(user_type) AS user_type, extra_uid, toString(event) AS event, event_sum, "
    "event_avg, event_count FROM ads.av_quality_30s",
    "recorded_course_enter_time": "SELECT user_id, classroom_id, toString(user_type) AS user_type, "
    "spend_time, toString(event_time) AS event_time, "
    "toString(create_time) AS create_time FROM ads.recorded_course_enter_time",
    "registrations_hourly_by_level": "SELECT reg_hour, toString(level) AS level, leads "
    "FROM ads.registrations_hourly_by_level",
    "cc_daily_tracking": "SELECT cc_id, cc_index, type, toString(attribution_date) AS attribution_date, "
    "update_time FROM ads.cc_daily_tracking",
}


def normalised(row: dict) -> str:
    if "event_avg" in row:
        row = {**row, "event_avg": round(float(row["event_avg"]), 6)}
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def mart_rows(client, mart: str) -> Counter:
    data = client.raw_query(
        MART_QUERIES[mart],
        fmt="JSONEachRow",
        settings={"output_format_json_quote_64bit_integers": 0},
    )
    return Counter(normalised(json.loads(line)) for line in data.decode().splitlines())


def test_every_offline_mart_equals_the_generators_ground_truth(pipeline_day):
    client = get_client(pipeline_day.settings)
    for mart in MART_QUERIES:
        expected = Counter(normalised(row) for row in pipeline_day.expected(mart))
        got = mart_rows(client, mart)
        assert sum(expected.values()) > 0, mart
        assert got == expected, (
            mart,
            list((expected - got).elements())[:3],
            list((got - expected).elements())[:3],
        )


def test_every_message_is_accounted_for(pipeline_day):
    client = get_client(pipeline_day.settings)
    rows = client.query(
        "SELECT topic, messages_read, accepted, rejected FROM ods.topic_accounting"
    ).result_rows
    accounting = {topic: (read, accepted, rejected) for topic, read, accepted, rejected in rows}
    for topic, stats in pipeline_day.manifest["topics"].items():
        read, accepted, rejected = accounting[topic]
        assert read == accepted + rejected == stats["messages"], topic
        assert rejected == stats["rejected_total"], topic
    reasons = dict(
        ((topic, reason), n)
        for topic, reason, n in client.query(
            "SELECT topic, toString(reason), count() FROM ods.rejected_messages GROUP BY topic, reason"
        ).result_rows
    )
    for topic, stats in pipeline_day.manifest["topics"].items():
        for reason, count in stats["rejected"].items():
            assert reasons.get((topic, reason), 0) == count, (topic, reason)


def test_real_time_marts_count_plus_late_equals_the_independently_counted_inputs(pipeline_day):
    """counted (the rt mart's own rows) + late (ods.late_events rows) = the events the generator
    wrote for the mart (its manifest), each side counted without the accounting view."""
    client = get_client(pipeline_day.settings)
    manifest = pipeline_day.manifest
    generated = {
        "classroom_performance_1min": manifest["marts"]["classroom_performance_1min"][
            "event_count"
        ],
        "av_quality_30s": manifest["marts"]["av_quality_30s"]["event_count"],
        "recorded_course_enter_time": manifest["topics"]["qos_log"]["valid"],
    }
    counted = {
        "classroom_performance_1min": client.query(
            "SELECT sum(event_count) FROM rt.classroom_performance_1min"
        ).first_row[0],
        "av_quality_30s": client.query("SELECT sum(event_count) FROM rt.av_quality_30s").first_row[
            0
        ],
    }
    late = dict(
        client.query(
            "SELECT toString(mart), count() FROM ods.late_events GROUP BY mart"
        ).result_rows
    )
    accounting = {
        mart: (events_in, events_counted, events_late)
        for mart, events_in, events_counted, events_late in client.query(
            "SELECT mart, events_in, events_counted, events_late FROM ods.mart_accounting"
        ).result_rows
    }
    for mart, events in generated.items():
        assert late.get(mart, 0) == manifest["late_events"][mart], mart
        assert late.get(mart, 0) > 0, f"{mart}: the day has late events"
        if mart in counted:
            assert counted[mart] + late[mart] == events, mart
        # the accounting view agrees with the independent counts
        assert accounting[mart] == (events, events - late[mart], late[mart]), mart


def test_real_time_enter_time_keeps_milliseconds(pipeline_day):
    """rt.recorded_course_enter_time = the offline rows without those of late PPT_SUCCESS
    events, to the millisecond (epoch fields are milliseconds end to end)."""
    client = get_client(pipeline_day.settings)
    late_successes = {
        (row["user_id"], row["classroom_id"], row["event_time"])
        for row in map(
            json.loads,
            (pipeline_day.topics / "_expected" / "late_events" / "recorded_course_enter_time.jsonl")
            .read_text()
            .splitlines(),
        )
    }
    want = Counter(
        normalised(row)
        for row in pipeline_day.expected("recorded_course_enter_time")
        if (row["user_id"], row["classroom_id"], row["create_time"]) not in late_successes
    )
    got = Counter(
        normalised(json.loads(line))
        for line in client.raw_query(
            MART_QUERIES["recorded_course_enter_time"].replace(" ads.", " rt."),
            fmt="JSONEachRow",
            settings={"output_format_json_quote_64bit_integers": 0},
        )
        .decode()
        .splitlines()
    )
    assert any(not row["event_time"].endswith(".000") for row in map(json.loads, got))
    assert got == want


def test_reconciliation_explains_the_difference_with_late_events(pipeline_day):
    client = get_client(pipeline_day.settings)
    rows = client.query(
        "SELECT toString(mart), sum(total_difference), sum(explained_by_late), sum(unexplained), "
        "countIf(status != 'ok') FROM ads.rt_vs_offline_reconciliation GROUP BY mart"
    ).result_rows
    by_mart = {mart: (diff, late, unexplained, bad) for mart, diff, late, unexplained, bad in rows}
    assert set(by_mart) == set(MART_QUERIES)
    assert sum(late for _, late, _, _ in by_mart.values()) > 0, "the day has late events"
    for mart, (diff, late, unexplained, bad) in by_mart.items():
        assert diff == late and unexplained == 0 and bad == 0, mart


def test_running_the_stages_again_changes_nothing(pipeline_day):
    """Every file was produced once, the pipeline read every message, every output landed: the
    same stages again produce, read and land nothing (a landing consumer killed mid-batch is
    tests/kafka/test_landing.py's)."""
    settings = pipeline_day.settings
    client = get_client(settings)
    snapshot = "SELECT count(), sum(cityHash64(*)) FROM ods.timeline_analysis_student"
    before = client.query(snapshot).result_rows
    assert before[0][0] > 0
    assert pipeline.produce(settings)["messages"] == 0
    again = pipeline.run_flink(settings)
    assert (again["produced"], again["ran"]) == (0, False)
    landed = pipeline.load(settings)
    assert landed["rows"] == 0 and landed["accounting"] == {"caught_up": True, "holds": True}
    assert client.query(snapshot).result_rows == before


def test_rebuilding_a_day_gives_identical_marts(pipeline_day):
    settings = pipeline_day.settings
    client = get_client(settings)
    checksum = (
        "SELECT (SELECT sum(cityHash64(*)) FROM ads.classroom_performance_1min), "
        "(SELECT sum(cityHash64(*)) FROM ads.av_quality_30s), "
        "(SELECT sum(cityHash64(*)) FROM ads.recorded_course_enter_time)"
    )
    before = client.query(checksum).result_rows
    for _ in range(2):
        pipeline.build(settings, run_date=pipeline_day.day.isoformat())
        assert client.query(checksum).result_rows == before
