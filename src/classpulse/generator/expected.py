"""Expected marts and the manifest, computed from the generator's own records."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from classpulse.generator.arrange import ExpectedMart, LateEvent
from classpulse.generator.contract import (
    AGORA,
    AV_MART,
    CC_MART,
    CHANNEL,
    CLASSROOM_MART,
    EXPECTED_DIR,
    JITTER_BOUND_MS,
    LATE_DIR,
    LEVELS_AD,
    MART_COLUMNS,
    MARTS,
    ORDER,
    QOS,
    REASONS,
    RECORDED_MART,
    REGISTRATION_MART,
    STUDENT,
    TIMELINE,
    USER,
)
from classpulse.generator.formats import dump_json
from classpulse.generator.handlers import AgoraTopic, QosTopic, TimelineTopic
from classpulse.generator.options import GeneratorOptions
from classpulse.generator.output import FileIndex
from classpulse.generator.records import QosRecord
from classpulse.topics import (
    TOPICS,
    write_file_atomically,
)


def compute_recorded_rows(
    records: list[QosRecord], lookback_ms: int
) -> dict[int, tuple[QosRecord, QosRecord]]:
    """PPT_SUCCESS seq -> (the success, the earliest earlier event within the look-back)."""
    by_pair: dict[tuple[int, str], list[QosRecord]] = defaultdict(list)
    for record in records:
        by_pair[(record.user_id, record.classroom_id)].append(record)
    rows: dict[int, tuple[QosRecord, QosRecord]] = {}
    for events in by_pair.values():
        events.sort(key=lambda record: (record.data_ms, record.event_ms))
        times = [record.data_ms for record in events]
        for record in events:
            if record.sub_event != "PPT_SUCCESS":
                continue
            low = bisect.bisect_left(times, record.data_ms - lookback_ms)
            high = bisect.bisect_left(times, record.data_ms)
            if low < high:
                rows[record.seq] = (record, events[low])
    return rows


def is_test_account(name: str) -> bool:
    return "测试" in name or "test" in name or name.startswith("DM_")


def is_near_miss_test_account(name: str) -> bool:
    lowered = name.lower()
    return not is_test_account(name) and ("test" in lowered or "dm_" in lowered or "测 试" in name)


def registration_rows(
    users: dict[str, dict[str, Any]],
    students: dict[str, dict[str, Any]],
    channels: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    leads: dict[tuple[int, str], set[str]] = defaultdict(set)
    for student_id, student in students.items():
        user = users.get(student_id)
        if user is None or user["status"] != "NORMAL" or is_test_account(user["name"]):
            continue
        channel = channels.get(str(student.get("channel_id")))
        level = (
            channel["level"] if channel is not None and channel["level"] in LEVELS_AD else "other"
        )
        stamp = user["register_date_time"]
        reg_hour = int(stamp[0:4] + stamp[5:7] + stamp[8:10] + stamp[11:13])
        leads[(reg_hour, level)].add(student_id)
    return [
        {"reg_hour": hour, "level": level, "leads": len(ids)}
        for (hour, level), ids in sorted(leads.items())
    ]


def is_tracked_order(order: dict[str, Any]) -> bool:
    return int(order["status"]) == 3 and order["confirm_date_time"] is not None


def cc_tracking_rows(orders: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[int, str], list[Any]] = {}
    for order in orders.values():
        if not is_tracked_order(order):
            continue
        key = (int(order["cc_id"]), order["confirm_date_time"][:10])
        entry = counts.setdefault(key, [0, ""])
        entry[0] += 1
        entry[1] = max(entry[1], order["update_time"])
    return [
        {
            "cc_id": cc_id,
            "cc_index": count,
            "type": 1,
            "attribution_date": day,
            "update_time": updated,
        }
        for (cc_id, day), (count, updated) in sorted(counts.items())
    ]


# ---------------------------------------------------------------------------------------
# Output: batch files, paced replay

# Manifest and expected marts

RULES = (
    "rejection precedence: malformed_json, then missing_field (absent or null), then wrong_type (any numeric field holding a non-numeric string, or a required datetime that is not a valid YYYY-MM-DD HH:MM:SS), then future_timestamp (timeline data.timestamp - createTime > 300000 ms)",
    "uc_account-student.channel_id may be null or absent: the student is valid and counts under level other",
    'ids (snapshot id, channel_id, student_id, order_id; classroom_id of qos_log and agora_record) arrive as strings or JSON integers; "42" and 42 are the same id',
    "numeric: an integer JSON number or a string matching -?[0-9]+",
    "late events: only in events feeding classroom_performance_1min, av_quality_30s, recorded_course_enter_time; measured on data.timestamp, messageCreateTime, extra.data_time; each written after an event at least late_min ahead in the same file",
    "av_quality_30s late events count once per metric (audio, video) the record feeds",
    "registrations_hourly_by_level and cc_daily_tracking have no window: no late events",
    "windows of 1 min and 30 s are epoch-aligned (UTC); datetime strings in _expected are business time zone, seconds, except recorded_course_enter_time's event_time and create_time (and its late events' event_time), epoch fields kept to the millisecond",
    "recorded_course_enter_time: user_type and event_time of the earliest earlier event, create_time = the PPT_SUCCESS event_time; look-back inclusive; earliest-time ties take the smallest event_time",
    "av_quality_30s: event_avg = event_sum / event_count (float)",
    "snapshot latest version: greatest update_time, ties to the later message (file-name then line order); channels too",
    "cc_daily_tracking: attribution_date = confirm_date_time date part; update_time = greatest update_time of the counted orders",
    "shares: fraction of candidates (valid messages; feeding events for late); a positive share yields at least one per topic (late: per mart)",
)


def compute_expected(handlers: dict[str, Any]) -> dict[str, ExpectedMart]:
    """The complete offline rows of every mart, late events included."""
    registrations = registration_rows(
        handlers[USER].latest, handlers[STUDENT].latest, handlers[CHANNEL].latest
    )
    tracking = cc_tracking_rows(handlers[ORDER].latest)
    return {
        CLASSROOM_MART: handlers[TIMELINE].expected(),
        RECORDED_MART: handlers[QOS].expected(),
        AV_MART: handlers[AGORA].expected(),
        REGISTRATION_MART: ExpectedMart(
            [dump_json(row) for row in registrations],
            {"rows": len(registrations), "leads": sum(row["leads"] for row in registrations)},
        ),
        CC_MART: ExpectedMart(
            [dump_json(row) for row in tracking],
            {"rows": len(tracking), "cc_index": sum(row["cc_index"] for row in tracking)},
        ),
    }


def late_events_by_mart(handlers: dict[str, Any]) -> dict[str, list[LateEvent]]:
    return {
        CLASSROOM_MART: handlers[TIMELINE].late,
        RECORDED_MART: handlers[QOS].late,
        AV_MART: handlers[AGORA].late,
        REGISTRATION_MART: [],
        CC_MART: [],
    }


def build_manifest(
    options: GeneratorOptions,
    handlers: dict[str, Any],
    expected: dict[str, ExpectedMart],
    rate: float | None,
) -> dict[str, Any]:
    timeline: TimelineTopic = handlers[TIMELINE]
    agora: AgoraTopic = handlers[AGORA]
    recorded: QosTopic = handlers[QOS]
    users, students, channels, orders = (
        handlers[topic] for topic in (USER, STUDENT, CHANNEL, ORDER)
    )
    stats = {topic: handlers[topic].stats for topic in TOPICS}
    anomalies = {
        reason: sum(stat.rejected[reason] for stat in stats.values()) for reason in REASONS
    }
    anomalies.update(
        {
            "late_events": sum(stat.late_events for stat in stats.values()),
            "numeric_string_messages": sum(stat.numeric_string_messages for stat in stats.values()),
            "unclassified_timeline_messages": timeline.unclassified,
            "av_bad_quality_records": agora.bad_quality,
            "av_null_keys": agora.null_keys,
            "av_non_student_records": agora.non_student,
            "ppt_success_without_row": recorded.successes - len(recorded.rows),
            "ppt_repeat_sessions": recorded.repeat_sessions,
            "test_accounts": sum(is_test_account(user["name"]) for user in users.latest.values()),
            "test_account_near_misses": sum(
                is_near_miss_test_account(user["name"]) for user in users.latest.values()
            ),
            "non_normal_status_users": sum(
                user["status"] != "NORMAL" for user in users.latest.values()
            ),
            "other_level_channels": sum(
                channel["level"] not in LEVELS_AD for channel in channels.latest.values()
            ),
            "students_missing_channel": sum(
                str(student.get("channel_id")) not in channels.latest
                for student in students.latest.values()
            ),
            "students_without_channel_id": sum(
                student.get("channel_id") is None for student in students.latest.values()
            ),
            "id_integer_messages": sum(
                handlers[topic].integer_ids for topic in (USER, STUDENT, CHANNEL, ORDER, QOS, AGORA)
            ),
            "students_without_user": sum(key not in users.latest for key in students.latest),
            "orders_not_eligible": sum(
                not is_tracked_order(order) for order in orders.latest.values()
            ),
            "orders_status_3_without_confirm": sum(
                int(order["status"]) == 3 and order["confirm_date_time"] is None
                for order in orders.latest.values()
            ),
            "stale_snapshot_versions": sum(
                handlers[topic].stale for topic in (USER, STUDENT, CHANNEL, ORDER)
            ),
            "snapshot_version_ties": sum(
                handlers[topic].ties for topic in (USER, STUDENT, CHANNEL, ORDER)
            ),
        }
    )
    late = late_events_by_mart(handlers)
    marts: dict[str, dict[str, Any]] = {}
    for mart in MARTS:
        summary: dict[str, Any] = dict(expected[mart].totals)
        summary["late_events"] = len(late[mart])
        summary["file"] = f"{EXPECTED_DIR}/{mart}.jsonl"
        summary["late_file"] = f"{EXPECTED_DIR}/{LATE_DIR}/{mart}.jsonl"
        summary["columns"] = list(MART_COLUMNS[mart])
        marts[mart] = summary
    parameters = asdict(options)
    parameters["start"] = options.start.isoformat()
    return {
        "generator": "classpulse generate",
        "format_version": 1,
        "parameters": parameters,
        "mode": "replay" if rate else "batch",
        "replay_rate": rate,
        "time": {
            "business_time_zone": options.timezone,
            "datetime_strings": "YYYY-MM-DD HH:MM:SS in the business time zone",
            "epoch_fields": "milliseconds since 1970-01-01 UTC",
            "windows": "1 min and 30 s windows epoch-aligned (UTC)",
            "reg_hour": "YYYYMMDDHH of register_date_time, business time zone",
        },
        "layout": {
            "topic_files": "<topic>/YYYYMMDDTHH0000Z.jsonl per UTC hour of arrival; with --rate "
            "<topic>/YYYYMMDDTHHMMSSmmmZ-<tick>.jsonl per second of replay",
            "expected": f"{EXPECTED_DIR}/<mart>.jsonl: complete offline rows, contract columns",
            "late_events": f"{EXPECTED_DIR}/{LATE_DIR}/<mart>.jsonl: one row per late event "
            "(av_quality_30s: per metric); offset = 0-based position in the topic (file-name "
            "then line order; the offset of a one-partition Kafka topic), file and line where "
            "written (null with --kafka)",
        },
        "ordering": {
            "jitter_bound_ms": JITTER_BOUND_MS,
            "late_min_ms": options.late_min_seconds * 1000,
            "event_time_fields": {
                TIMELINE: "data.timestamp",
                AGORA: "messageCreateTime",
                QOS: "extra.data_time",
            },
        },
        "topics": {topic: stats[topic].as_manifest() for topic in TOPICS},
        "totals": {
            "messages": sum(stat.messages for stat in stats.values()),
            "valid": sum(stat.valid for stat in stats.values()),
            "rejected": sum(sum(stat.rejected.values()) for stat in stats.values()),
        },
        "anomalies": anomalies,
        "late_events": {mart: marts[mart]["late_events"] for mart in MARTS},
        "marts": marts,
        "rules": list(RULES),
    }


def write_expected(
    out: Path, handlers: dict[str, Any], expected: dict[str, ExpectedMart], files: FileIndex
) -> None:
    directory = out / EXPECTED_DIR
    for mart in MARTS:
        lines = expected[mart].lines
        write_file_atomically(
            directory, f"{mart}.jsonl", "".join(f"{line}\n" for line in lines).encode()
        )
    for mart, late in late_events_by_mart(handlers).items():
        rows = []
        for event in late:
            name, line = files.locate(event.topic, event.offset)
            location = {
                "mart": mart,
                "topic": event.topic,
                "offset": event.offset,
                "file": name,
                "line": line,
            }
            rows.append({**location, **event.columns})
        write_file_atomically(directory / LATE_DIR, f"{mart}.jsonl", encode_rows(rows))


def encode_rows(rows: list[dict[str, Any]]) -> bytes:
    return "".join(dump_json(row) + "\n" for row in rows).encode("utf-8")
