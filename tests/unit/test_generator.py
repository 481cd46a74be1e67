"""``classpulse generate``: determinism, atomic files, bad input, late events, expected marts.

The checks re-read the written topic files and classify every message with the rules of
``shared/spec/DATA_CONTRACT.md``, written out again here, independently of the generator,
then compare with what the generator's manifest and ``_expected`` files claim.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from contract_classifier import STUDENT_EVENTS

from classpulse.business_rules import bad_audio_lost, bad_video_fr
from classpulse.commands.generate import command
from classpulse.generator import MART_COLUMNS, GeneratorOptions, generate
from classpulse.generator.contract import AGORA, CHANNEL, ORDER, QOS, STUDENT, TIMELINE, USER
from classpulse.generator.expected import registration_rows as registrations_rule

DAY = date(2026, 11, 21)
ZONE = ZoneInfo("Asia/Shanghai")
TOPICS = (TIMELINE, AGORA, QOS, STUDENT, USER, CHANNEL, ORDER)
REASONS = ("malformed_json", "missing_field", "wrong_type", "future_timestamp")

# --- the contract, restated ------------------------------------------------------------
REQUIRED = {
    TIMELINE: [
        "createTime",
        "data.userid",
        "data.roomid",
        "data.timestamp",
        "data.role",
        "data.msgid",
        "data.msg.msgtype",
    ],
    AGORA: ["event", "user_type", "messageCreateTime"],
    QOS: ["classroom_id", "user_id", "event_time", "sub_event", "extra.data_time"],
    STUDENT: ["id", "update_time"],  # channel_id may be null or absent
    USER: ["id", "name", "register_date_time", "status", "update_time"],
    CHANNEL: ["id", "level", "update_time"],
    ORDER: ["id", "cc_id", "status", "update_time"],
}
NUMBERS = {
    TIMELINE: REQUIRED[TIMELINE] + ["data.msg.msg_data.page_index"],
    AGORA: [
        "messageCreateTime",
        "user_id",
        "agora_channel_id",
        "agora_videoState.fr",
        "agora_videoState.uid",
        "agora_audioState.lost",
        "agora_audioState.uid",
    ],
    QOS: ["user_id", "event_time", "extra.data_time", "extra.msg.pptIndex"],
    STUDENT: [],
    USER: [],
    CHANNEL: [],
    ORDER: ["cc_id", "status"],
}
DATETIMES = {  # required 'YYYY-MM-DD HH:MM:SS' fields
    TIMELINE: [],
    AGORA: [],
    QOS: [],
    STUDENT: ["update_time"],
    USER: ["register_date_time", "update_time"],
    CHANNEL: ["update_time"],
    ORDER: ["update_time"],
}
DATETIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
EVENT_TIME_PATH = {TIMELINE: "data.timestamp", AGORA: "messageCreateTime", QOS: "extra.data_time"}
INTEGER_TEXT = re.compile(r"-?[0-9]+")
MISSING = object()
LATE_MIN_MS = 300_000
LOOKBACK_MS = 3 * 3_600_000


def lookup(document: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(document, dict) or key not in document:
            return MISSING
        document = document[key]
    return document


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and INTEGER_TEXT.fullmatch(value) is not None


def number(document: Any, path: str) -> int | None:
    value = lookup(document, path)
    return None if value is MISSING or value is None else int(value)


def is_datetime(value: Any) -> bool:
    if not isinstance(value, str) or not DATETIME_TEXT.fullmatch(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


def classify(topic: str, line: str) -> tuple[str | None, dict[str, Any] | None]:
    """(rejection reason or None, the parsed message)."""
    try:
        document = json.loads(line)
    except ValueError:
        return "malformed_json", None
    if not isinstance(document, dict):
        return "malformed_json", None
    for path in REQUIRED[topic]:
        if lookup(document, path) in (MISSING, None):
            return "missing_field", document
    for path in NUMBERS[topic]:
        value = lookup(document, path)
        if value is not MISSING and value is not None and not is_number(value):
            return "wrong_type", document
    for path in DATETIMES[topic]:
        if not is_datetime(lookup(document, path)):
            return "wrong_type", document
    if (
        topic == TIMELINE
        and number(document, "data.timestamp") - number(document, "createTime") > 300_000
    ):
        return "future_timestamp", document
    return None, document


def student_event(message: dict[str, Any]) -> str | None:
    data = message["data"]
    if (number(data, "msgid"), number(data, "msg.msgtype"), number(data, "role")) != (305, 116, 2):
        return None
    details = lookup(data, "msg.msg_data")
    if not isinstance(details, dict):
        return None
    for event, target_id, target_type, action, sub_action in STUDENT_EVENTS:
        if (
            (target_id is None or details.get("target_id") == target_id)
            and details.get("target_type") == target_type
            and details.get("action") == action
            and (sub_action is None or details.get("sub_action") == sub_action)
        ):
            return event
    return None


def business_time(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, ZONE).strftime("%Y-%m-%d %H:%M:%S")


def business_time_ms(ms: int) -> str:
    """Epoch fields keep their milliseconds (recorded_course_enter_time)."""
    return f"{business_time(ms)}.{ms % 1000:03d}"


def is_test_account(name: str) -> bool:
    return "测试" in name or "test" in name or name.startswith("DM_")


# --- reading a generated directory -----------------------------------------------------


@dataclass
class Message:
    file: str
    line: int
    document: dict[str, Any]


@dataclass
class TopicView:
    """One topic as a consumer sees it: counts per reason and the valid messages."""

    messages: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    valid: list[Message] = field(default_factory=list)
    # (the valid message a wrong_type copy follows, the copy): the generator writes each
    # rejected copy right after the message it corrupted
    wrong_typed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)


def read_topics(root: Path) -> dict[str, TopicView]:
    views = {}
    for topic in TOPICS:
        view = TopicView()
        for path in sorted((root / topic).iterdir(), key=lambda entry: entry.name):
            assert not path.name.startswith("."), path
            for number_, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                view.messages += 1
                reason, document = classify(topic, line)
                if reason is None:
                    assert document is not None
                    view.valid.append(Message(path.name, number_, document))
                else:
                    view.reasons[reason] += 1
                    if reason == "wrong_type":
                        view.wrong_typed.append((view.valid[-1].document, document))
        views[topic] = view
    return views


def latest_versions(view: TopicView) -> tuple[dict[str, dict[str, Any]], int, int]:
    """Latest message per id (greatest update_time, ties to the later message); stale; ties."""
    latest: dict[str, dict[str, Any]] = {}
    stale = ties = 0
    for message in view.valid:
        document = message.document
        current = latest.get(str(document["id"]))
        if current is not None and document["update_time"] < current["update_time"]:
            stale += 1
            continue
        if current is not None and document["update_time"] == current["update_time"]:
            ties += 1
        latest[str(document["id"])] = document
    return latest, stale, ties


def late_positions(view: TopicView, path: str) -> tuple[set[tuple[str, int]], int]:
    """Messages at least LATE_MIN_MS behind an earlier one of the same file; the largest
    lag among the others (the jitter)."""
    late: set[tuple[str, int]] = set()
    jitter = 0
    highest: dict[str, int] = {}
    global_highest = None
    for message in view.valid:
        moment = number(message.document, path)
        assert moment is not None
        before = highest.get(message.file)
        if before is not None and before - moment >= LATE_MIN_MS:
            late.add((message.file, message.line))
            continue
        if global_highest is not None:
            jitter = max(jitter, global_highest - moment)
        highest[message.file] = moment if before is None else max(before, moment)
        global_highest = moment if global_highest is None else max(global_highest, moment)
    return late, jitter


def read_expected(root: Path, name: str) -> list[dict[str, Any]]:
    text = (root / "_expected" / f"{name}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


# --- the marts, recomputed from the files ----------------------------------------------


def classroom_rows(view: TopicView) -> Counter[tuple[Any, ...]]:
    rows: Counter[tuple[Any, ...]] = Counter()
    for message in view.valid:
        event = student_event(message.document)
        if event is None:
            continue
        data = message.document["data"]
        moment = number(data, "timestamp")
        start = moment - moment % 60_000
        key = (
            business_time(start),
            business_time(start + 60_000),
            number(data, "roomid"),
            number(data, "userid"),
            2,
            event,
        )
        rows[key] += 1
    return rows


def av_rows(view: TopicView) -> dict[tuple[Any, ...], list[int]]:
    rows: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for message in view.valid:
        document = message.document
        if document["user_type"] != "student":
            continue
        moment = number(document, "messageCreateTime")
        start = moment - moment % 30_000
        user = number(document, "user_id")
        channel = number(document, "agora_channel_id")
        classroom = document.get("classroom_id")
        for state, metric, suffix in (
            ("agora_audioState", "lost", "_AUDIO_STATE"),
            ("agora_videoState", "fr", "_VIDEO_STATE"),
        ):
            value = number(document, f"{state}.{metric}")
            if value is None or value < 0:
                continue
            key = (
                business_time(start),
                business_time(start + 30_000),
                -1 if user is None else user,
                -1 if channel is None else channel,
                "-1" if classroom is None else str(classroom),  # an id: "42" is 42
                "student",
                number(document, f"{state}.uid"),
                document["event"] + suffix,
            )
            rows[key][0] += value
            rows[key][1] += 1
    return rows


def recorded_rows(view: TopicView) -> list[tuple[Any, ...]]:
    by_pair: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for message in view.valid:
        document = message.document
        by_pair[(number(document, "user_id"), str(document["classroom_id"]))].append(document)
    rows = []
    for (user, classroom), events in by_pair.items():
        for success in events:
            if success["sub_event"] != "PPT_SUCCESS":
                continue
            done = number(success, "extra.data_time")
            earlier = [
                event
                for event in events
                if done - LOOKBACK_MS <= number(event, "extra.data_time") < done
            ]
            if not earlier:
                continue
            first = min(
                earlier,
                key=lambda e: (number(e, "extra.data_time"), number(e, "event_time")),
            )
            rows.append(
                (
                    user,
                    classroom,
                    first["user_type"],
                    done - number(first, "extra.data_time"),
                    business_time_ms(number(first, "event_time")),
                    business_time_ms(number(success, "event_time")),
                )
            )
    return sorted(rows)


def registration_rows(views: dict[str, TopicView]) -> list[tuple[Any, ...]]:
    """The registrations rule (one definition, in the generator) over the latest versions
    read back from the written files."""
    users, _, _ = latest_versions(views[USER])
    students, _, _ = latest_versions(views[STUDENT])
    channels, _, _ = latest_versions(views[CHANNEL])
    return sorted(tuple(row.values()) for row in registrations_rule(users, students, channels))


def tracking_rows(view: TopicView) -> list[tuple[Any, ...]]:
    orders, _, _ = latest_versions(view)
    counts: dict[tuple[int, str], list[Any]] = {}
    for order in orders.values():
        if int(order["status"]) != 3 or order["confirm_date_time"] is None:
            continue
        key = (int(order["cc_id"]), order["confirm_date_time"][:10])
        entry = counts.setdefault(key, [0, ""])
        entry[0] += 1
        entry[1] = max(entry[1], order["update_time"])
    return sorted((cc, count, 1, day, updated) for (cc, day), (count, updated) in counts.items())


# --- fixtures ------------------------------------------------------------------------


def run(out: Path, **overrides: Any) -> dict[str, Any]:
    options = {"start": DAY, "seed": 11, "scale": 0.3} | overrides
    return generate(GeneratorOptions(**options), out).manifest


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("topics")
    shares = {
        "malformed_share": 0.004,
        "missing_share": 0.005,
        "wrong_type_share": 0.003,
        "future_share": 0.006,
        "late_share": 0.01,
    }
    return out, run(out, **shares)


@pytest.fixture(scope="module")
def views(dataset: tuple[Path, dict[str, Any]]) -> dict[str, TopicView]:
    return read_topics(dataset[0])


def walk(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield str(path.relative_to(root)), path.read_bytes()


# --- tests ---------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    run(tmp_path / "a", scale=0.05)
    run(tmp_path / "b", scale=0.05)
    run(tmp_path / "c", scale=0.05, seed=12)
    first = list(walk(tmp_path / "a"))
    assert first == list(walk(tmp_path / "b"))
    other = dict(walk(tmp_path / "c"))
    assert any(other.get(name) != content for name, content in first if "topic" in name)


def test_layout_has_complete_hour_files_only(dataset: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = dataset
    hidden = [path for path in out.rglob(".*")]
    assert hidden == []
    assert (out / "_manifest.json").is_file()
    for topic in TOPICS:
        names = [path.name for path in (out / topic).iterdir()]
        assert names and all(re.fullmatch(r"\d{8}T\d{2}0000Z\.jsonl", name) for name in names)
        assert manifest["topics"][topic]["files"] == len(names)


def test_rejections_match_the_manifest(
    dataset: tuple[Path, dict[str, Any]], views: dict[str, TopicView]
) -> None:
    manifest = dataset[1]
    for topic in TOPICS:
        view, claimed = views[topic], manifest["topics"][topic]
        assert view.messages == claimed["messages"], topic
        assert len(view.valid) == claimed["valid"], topic
        assert {reason: view.reasons[reason] for reason in REASONS} == claimed["rejected"], topic
    applicable = {topic: ["malformed_json", "missing_field", "wrong_type"] for topic in TOPICS}
    applicable[TIMELINE].append("future_timestamp")
    for topic, reasons in applicable.items():
        assert all(views[topic].reasons[reason] > 0 for reason in reasons), topic


def test_numbers_arrive_as_numbers_and_numeric_strings(
    dataset: tuple[Path, dict[str, Any]], views: dict[str, TopicView]
) -> None:
    with_strings = 0
    for topic in (TIMELINE, AGORA, QOS, ORDER):
        kinds: Counter[str] = Counter()
        mixed = 0
        for message in views[topic].valid:
            values = [lookup(message.document, path) for path in NUMBERS[topic]]
            present = {type(value).__name__ for value in values if value not in (MISSING, None)}
            kinds.update(present)
            mixed += present == {"int", "str"}
            with_strings += "str" in present
        assert kinds["int"] > 0 and kinds["str"] > 0, topic
        assert mixed > 0, topic
    assert with_strings == dataset[1]["anomalies"]["numeric_string_messages"]


def test_anomaly_counts_match_the_manifest(
    dataset: tuple[Path, dict[str, Any]], views: dict[str, TopicView]
) -> None:
    anomalies = dataset[1]["anomalies"]
    users, stale_users, tied_users = latest_versions(views[USER])
    students, stale_students, tied_students = latest_versions(views[STUDENT])
    channels, stale_channels, tied_channels = latest_versions(views[CHANNEL])
    orders, stale_orders, tied_orders = latest_versions(views[ORDER])
    agora = [message.document for message in views[AGORA].valid]
    names = [user["name"] for user in users.values()]
    derived = {
        "test_accounts": sum(map(is_test_account, names)),
        "test_account_near_misses": sum(
            not is_test_account(name)
            and ("test" in name.lower() or "dm_" in name.lower() or "测 试" in name)
            for name in names
        ),
        "non_normal_status_users": sum(user["status"] != "NORMAL" for user in users.values()),
        "other_level_channels": sum(
            channel["level"] not in ("A", "B", "C", "D") for channel in channels.values()
        ),
        "students_missing_channel": sum(
            str(student.get("channel_id")) not in channels for student in students.values()
        ),
        "students_without_channel_id": sum(
            student.get("channel_id") is None for student in students.values()
        ),
        "students_without_user": sum(key not in users for key in students),
        "orders_not_eligible": sum(
            int(order["status"]) != 3 or order["confirm_date_time"] is None
            for order in orders.values()
        ),
        "orders_status_3_without_confirm": sum(
            int(order["status"]) == 3 and order["confirm_date_time"] is None
            for order in orders.values()
        ),
        "stale_snapshot_versions": stale_users + stale_students + stale_channels + stale_orders,
        "snapshot_version_ties": tied_users + tied_students + tied_channels + tied_orders,
        "unclassified_timeline_messages": sum(
            student_event(message.document) is None for message in views[TIMELINE].valid
        ),
        "av_non_student_records": sum(record["user_type"] != "student" for record in agora),
        "av_null_keys": sum(
            record.get("user_id") is None
            or record.get("agora_channel_id") is None
            or record.get("classroom_id") is None
            for record in agora
        ),
        "av_bad_quality_records": sum(
            (number(record, "agora_audioState.lost") or 0) >= bad_audio_lost()
            or 0
            <= (number(record, "agora_videoState.fr") if "agora_videoState" in record else -1)
            < bad_video_fr()
            for record in agora
        ),
        "ppt_success_without_row": sum(
            message.document["sub_event"] == "PPT_SUCCESS" for message in views[QOS].valid
        )
        - len(recorded_rows(views[QOS])),
    }
    for reason in REASONS:
        derived[reason] = sum(view.reasons[reason] for view in views.values())
    assert {kind: anomalies[kind] for kind in derived} == derived
    assert all(count > 0 for count in derived.values()), derived
    assert anomalies["ppt_repeat_sessions"] > 0
    near_misses = {"Test", "TEST", "xDM_", "dm_"}
    assert all(any(word in name for name in names) for word in near_misses)


def test_late_events_are_late_and_the_rest_in_order(
    dataset: tuple[Path, dict[str, Any]], views: dict[str, TopicView]
) -> None:
    out, manifest = dataset
    marts = {
        TIMELINE: "classroom_performance_1min",
        AGORA: "av_quality_30s",
        QOS: "recorded_course_enter_time",
    }
    for topic, mart in marts.items():
        late, jitter = late_positions(views[topic], EVENT_TIME_PATH[topic])
        assert jitter < 2_000, topic
        assert 0 < len(late) == manifest["topics"][topic]["late_events"], topic
        listed = read_expected(out, f"late_events/{mart}")
        assert (
            len(listed) == manifest["late_events"][mart] == manifest["marts"][mart]["late_events"]
        )
        assert {(row["file"], row["line"]) for row in listed} == late, topic
    created = [number(m.document, "createTime") for m in views[TIMELINE].valid]
    assert created == sorted(created)  # a late courseware message arrived with its successor
    for topic in (STUDENT, USER, CHANNEL, ORDER):
        assert manifest["topics"][topic]["late_events"] == 0


def test_late_events_feed_their_mart(
    dataset: tuple[Path, dict[str, Any]], views: dict[str, TopicView]
) -> None:
    out, manifest = dataset
    located = {
        (topic, message.file, message.line): message.document
        for topic in (TIMELINE, AGORA, QOS)
        for message in views[topic].valid
    }
    for row in read_expected(out, "late_events/classroom_performance_1min"):
        assert student_event(located[(TIMELINE, row["file"], row["line"])]) == row["event"]
    per_record = Counter(
        (row["file"], row["line"]) for row in read_expected(out, "late_events/av_quality_30s")
    )
    for (name, line), count in per_record.items():
        record = located[(AGORA, name, line)]
        metrics = [
            number(record, path) for path in ("agora_audioState.lost", "agora_videoState.fr")
        ]
        assert record["user_type"] == "student"
        assert count == sum(value is not None and value >= 0 for value in metrics)
    accepted = sum(classroom_rows(views[TIMELINE]).values())
    counted_in_time = accepted - manifest["late_events"]["classroom_performance_1min"]
    assert (
        counted_in_time + manifest["late_events"]["classroom_performance_1min"]
        == (manifest["marts"]["classroom_performance_1min"]["event_count"])
    )
    for row in read_expected(out, "late_events/recorded_course_enter_time"):
        assert located[(QOS, row["file"], row["line"])]["sub_event"] == "PPT_SUCCESS"


def test_expected_marts_follow_the_contract(
    dataset: tuple[Path, dict[str, Any]], views: dict[str, TopicView]
) -> None:
    out, manifest = dataset
    expected = {mart: read_expected(out, mart) for mart in MART_COLUMNS}
    for mart, rows in expected.items():
        assert rows, mart
        assert all(list(row) == list(MART_COLUMNS[mart]) for row in rows), mart
        assert manifest["marts"][mart]["rows"] == len(rows)

    classroom = Counter()
    for row in expected["classroom_performance_1min"]:
        classroom[tuple(row[c] for c in MART_COLUMNS["classroom_performance_1min"][:-1])] += row[
            "event_count"
        ]
    assert classroom == classroom_rows(views[TIMELINE])

    av = {}
    for row in expected["av_quality_30s"]:
        assert row["event_avg"] == pytest.approx(row["event_sum"] / row["event_count"])
        av[tuple(row[c] for c in MART_COLUMNS["av_quality_30s"][:8])] = [
            row["event_sum"],
            row["event_count"],
        ]
    assert av == dict(av_rows(views[AGORA]))

    recorded = sorted(
        tuple(row[c] for c in MART_COLUMNS["recorded_course_enter_time"])
        for row in expected["recorded_course_enter_time"]
    )
    assert recorded == recorded_rows(views[QOS])
    spend = {row["spend_time"] for row in expected["recorded_course_enter_time"]}
    assert LOOKBACK_MS in spend and all(0 < value <= LOOKBACK_MS for value in spend)

    registrations = [tuple(row.values()) for row in expected["registrations_hourly_by_level"]]
    assert sorted(registrations) == registration_rows(views)
    assert {row[1] for row in registrations} == {"A", "B", "C", "D", "other"}

    tracking = [tuple(row.values()) for row in expected["cc_daily_tracking"]]
    assert sorted(tracking) == tracking_rows(views[ORDER])


def test_late_share_controls_the_number_of_late_events(tmp_path: Path) -> None:
    none = run(tmp_path / "none", scale=0.1, late_share=0.0)
    assert all(count == 0 for count in none["late_events"].values())
    late, _ = late_positions(read_topics(tmp_path / "none")[TIMELINE], "data.timestamp")
    assert late == set()

    some = run(tmp_path / "some", scale=0.1, late_share=0.05)
    feeding = some["marts"]["classroom_performance_1min"]["event_count"]
    assert some["late_events"]["classroom_performance_1min"] == pytest.approx(0.05 * feeding, abs=2)
    assert all(
        count > 0
        for mart, count in some["late_events"].items()
        if mart in ("classroom_performance_1min", "av_quality_30s", "recorded_course_enter_time")
    )


def test_paced_replay_publishes_only_complete_files(tmp_path: Path) -> None:
    out = tmp_path / "replay"
    seen: dict[Path, bytes] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for topic in TOPICS:
                for path in out.glob(f"{topic}/*"):
                    if path not in seen and not path.name.startswith("."):
                        seen[path] = path.read_bytes()

    delays: list[float] = []

    def pace(delay: float) -> None:
        delays.append(delay)
        time.sleep(delay)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        options = GeneratorOptions(start=DAY, seed=5, scale=0.02)
        result = generate(options, out, rate=1_500, sleep=pace)
    finally:
        done.set()
        watcher.join()
    # paced: each tick of 1_500 messages waits for its second (never more than one second)
    ticks = len({path.name for path in out.glob("*/*.jsonl")})
    assert 0 < len(delays) <= ticks
    assert all(0 < delay <= 1.0 for delay in delays)
    assert seen, "the watcher saw no file"
    assert all(content == path.read_bytes() for path, content in seen.items())
    assert all(content.endswith(b"\n") for content in seen.values())
    assert not list(out.rglob(".*"))
    names = sorted(path.name for path in (out / TIMELINE).iterdir())
    assert len(names) > 1 and all(re.fullmatch(r"\d{8}T\d{9}Z-\d{8}\.jsonl", n) for n in names)
    late, jitter = late_positions(read_topics(out)[TIMELINE], "data.timestamp")
    assert len(late) == result.manifest["topics"][TIMELINE]["late_events"] and jitter < 2_000


def test_existing_output_needs_clean(tmp_path: Path) -> None:
    run(tmp_path, scale=0.02)
    runner = CliRunner()
    args = ["--out", str(tmp_path), "--scale", "0.02", "--start", "2026-11-21"]
    refused = runner.invoke(command, args)
    assert refused.exit_code != 0 and "--clean" in refused.output
    replaced = runner.invoke(command, [*args, "--clean", "--seed", "3"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((tmp_path / "_manifest.json").read_text())["parameters"]["seed"] == 3


def test_cli_help_and_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLASSPULSE_TIMEZONE", "Asia/Shanghai")
    runner = CliRunner()
    shown = runner.invoke(command, ["--help"])
    assert shown.exit_code == 0
    for option in ("--scale", "--seed", "--start", "--out", "--kafka", "--rate", "--late-share"):
        assert option in shown.output
    result = runner.invoke(
        command, ["--out", str(tmp_path), "--scale", "0.05", "--seed", "9", "--start", "2026-11-21"]
    )
    assert result.exit_code == 0, result.output
    assert "msgs/s" in result.output and TIMELINE in result.output
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert manifest["parameters"]["start"] == "2026-11-21"
    assert manifest["parameters"]["timezone"] == "Asia/Shanghai"
    bad = runner.invoke(command, ["--out", str(tmp_path / "x"), "--start", "21/11/2026"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_cli_kafka_without_broker_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    result = CliRunner().invoke(command, ["--out", str(tmp_path), "--kafka", "--scale", "0.02"])
    assert result.exit_code == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in result.output
    assert not (tmp_path / "_manifest.json").exists()


def test_every_numeric_and_datetime_field_gets_a_wrong_type_copy(
    views: dict[str, TopicView],
) -> None:
    """Each wrong_type copy differs from the valid message before it in exactly one field."""
    for topic in TOPICS:
        fields = NUMBERS[topic] + DATETIMES[topic]
        broken: Counter[str] = Counter()
        bad_datetimes: set[str] = set()
        for valid, copy in views[topic].wrong_typed:
            changed = [path for path in fields if lookup(copy, path) != lookup(valid, path)]
            assert len(changed) == 1, (topic, copy)
            broken.update(changed)
            if changed[0] in DATETIMES[topic]:
                bad_datetimes.add(lookup(copy, changed[0]))
        assert set(broken) == set(fields), (topic, set(fields) - set(broken))
        if DATETIMES[topic]:
            assert bad_datetimes and not any(map(is_datetime, bad_datetimes)), topic


def test_students_without_a_channel_are_valid_and_ids_come_as_strings_or_integers(
    dataset: tuple[Path, dict[str, Any]], views: dict[str, TopicView]
) -> None:
    documents = [message.document for message in views[STUDENT].valid]
    assert any("channel_id" not in document for document in documents)
    assert any(
        "channel_id" in document and document["channel_id"] is None for document in documents
    )
    for topic, key in ((STUDENT, "id"), (USER, "id"), (CHANNEL, "id"), (ORDER, "id")) + (
        (QOS, "classroom_id"),
        (AGORA, "classroom_id"),
    ):
        kinds = Counter(type(message.document.get(key)).__name__ for message in views[topic].valid)
        assert kinds["int"] > 0 and kinds["str"] > 0, topic
    # a student without a channel counts under level other (the seed's LEFT JOIN)
    students, _, _ = latest_versions(views[STUDENT])
    users, _, _ = latest_versions(views[USER])
    counted_without_channel = [
        key
        for key, student in students.items()
        if student.get("channel_id") is None
        and key in users
        and users[key]["status"] == "NORMAL"
        and not is_test_account(users[key]["name"])
    ]
    assert counted_without_channel
    expected = read_expected(dataset[0], "registrations_hourly_by_level")
    other = sum(row["leads"] for row in expected if row["level"] == "other")
    assert other >= len(counted_without_channel)
