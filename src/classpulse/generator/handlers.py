"""One handler per topic: formats its chunks and accumulates what its mart expects."""

from __future__ import annotations

from itertools import compress
from operator import attrgetter
from typing import Any

from classpulse import business_rules
from classpulse.generator.arrange import BaseTopic, Chunk, ExpectedMart, LateEvent
from classpulse.generator.contract import AGORA, ID_FIELDS, ORDER, QOS, STUDENT_EVENTS, TIMELINE
from classpulse.generator.formats import (
    AGORA_TEMPLATES,
    PATTERN_TABLE,
    QOS_TEMPLATES,
    dump_json,
    format_agora_slowly,
)
from classpulse.generator.kinds import KIND_EVENT, KIND_FEEDS, KIND_HAS_DATA, TIMELINE_TEMPLATES
from classpulse.generator.options import BusinessClock, GeneratorOptions
from classpulse.generator.records import AgoraRecord, QosRecord, SnapshotRecord, TimelineRecord

KIND_OF = attrgetter("kind")
FEEDS = attrgetter("feeds")
AUDIO_SUFFIX = "_AUDIO_STATE"
VIDEO_SUFFIX = "_VIDEO_STATE"


class TimelineTopic(BaseTopic):
    topic = TIMELINE
    late_capable = True

    def __init__(self, options: GeneratorOptions, clock: BusinessClock) -> None:
        super().__init__(options, clock)
        self.windows: dict[tuple[int, int, int, int], int] = {}
        self.late: list[LateEvent] = []
        self.unclassified = 0

    def feeding_positions(self, records: list[TimelineRecord]) -> list[int]:
        flags = map(KIND_FEEDS.__getitem__, map(KIND_OF, records))
        return list(compress(range(len(records)), flags))

    def can_anchor(self, record: TimelineRecord) -> bool:
        return KIND_FEEDS[record.kind]

    def make_late(self, record: TimelineRecord, anchor: TimelineRecord) -> TimelineRecord:
        return record._replace(create_ms=anchor.create_ms)  # the server got it with the anchor

    def format_all(self, records: list[TimelineRecord]) -> list[str]:
        rand = self.format_rng.random
        patterns, width = PATTERN_TABLE, len(PATTERN_TABLE)
        templates, has_data = TIMELINE_TEMPLATES, KIND_HAS_DATA
        lines: list[str] = []
        append = lines.append
        quoted = 0
        for created, client, user, room, kind, fragment, page in records:
            pattern = patterns[int(rand() * width)]
            quoted += pattern != 0
            if has_data[kind]:
                append(templates[pattern][kind][fragment] % (created, user, room, client, page))
            else:
                append(templates[pattern][kind][0] % (created, user, room, client))
        self.stats.numeric_string_messages += quoted
        return lines

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        windows, get, events = self.windows, self.windows.get, KIND_EVENT
        unclassified = 0
        for record in chunk.records:
            if record is None:
                continue
            event = events[record.kind]
            if event < 0:
                unclassified += 1
                continue
            client = record.client_ms
            key = (client - client % 60_000, record.room_id, record.user_id, event)
            windows[key] = get(key, 0) + 1
        self.unclassified += unclassified
        for position in sorted(chunk.late):
            self.late.append(self.describe_late(chunk.records[position], start_offset + position))

    def describe_late(self, record: TimelineRecord, offset: int) -> LateEvent:
        client, user, room = record.client_ms, record.user_id, record.room_id
        event = KIND_EVENT[record.kind]
        window = client - client % 60_000
        columns = {
            "start_time": self.clock.format(window),
            "end_time": self.clock.format(window + 60_000),
            "webserver_id": room,
            "user_id": user,
            "role": 2,
            "event": STUDENT_EVENTS[event],
            "event_time": self.clock.format(client),
            "event_time_ms": client,
        }
        return LateEvent(TIMELINE, offset, columns)

    def expected(self) -> ExpectedMart:
        """Rows in order of first appearance (deterministic, no sort needed)."""
        template = (
            '{"start_time":"%s","end_time":"%s","webserver_id":%d,"user_id":%d,"role":2,'
            '"event":"%s","event_count":%d}'
        )
        fmt, names = self.clock.format, STUDENT_EVENTS
        lines = [
            template % (fmt(window), fmt(window + 60_000), room, user, names[event], count)
            for (window, room, user, event), count in self.windows.items()
        ]
        return ExpectedMart(lines, {"rows": len(lines), "event_count": sum(self.windows.values())})


class AgoraTopic(BaseTopic):
    topic = AGORA
    late_capable = True

    def __init__(self, options: GeneratorOptions, clock: BusinessClock) -> None:
        super().__init__(options, clock)
        self.windows: dict[tuple[Any, ...], list[int]] = {}
        self.late: list[LateEvent] = []
        self.bad_quality = 0  # records (any user type) with bad audio or video
        self.bad_audio_lost = business_rules.bad_audio_lost()
        self.bad_video_fr = business_rules.bad_video_fr()
        self.null_keys = 0
        self.non_student = 0

    def feeding_positions(self, records: list[AgoraRecord]) -> list[int]:
        return list(compress(range(len(records)), map(FEEDS, records)))

    def can_anchor(self, record: AgoraRecord) -> bool:
        return record.feeds

    def format_all(self, records: list[AgoraRecord]) -> list[str]:
        rand = self.format_rng.random
        patterns, width, templates = PATTERN_TABLE, len(PATTERN_TABLE), AGORA_TEMPLATES
        lines: list[str] = []
        append = lines.append
        quoted = 0
        for record in records:
            _, created, classroom, user_type, user, channel, event, fr, vuid, lost, auid, _ = record
            pattern = patterns[int(rand() * width)]
            if classroom is None or user is None or channel is None:
                line, has_string = format_agora_slowly(record, pattern)
                append(line)
                quoted += has_string
                continue
            quoted += pattern != 0
            template = templates[(pattern, fr is not None, lost is not None)]
            if fr is None and lost is None:
                append(template % (classroom, user_type, user, channel, event, created))
            elif fr is None:
                append(template % (classroom, user_type, user, channel, event, lost, auid, created))
            elif lost is None:
                append(template % (classroom, user_type, user, channel, event, fr, vuid, created))
            else:
                values = (classroom, user_type, user, channel, event, fr, vuid, lost, auid, created)
                append(template % values)
        self.stats.numeric_string_messages += quoted
        return self.write_classroom_ids(lines)

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        windows, get = self.windows, self.windows.get
        null_keys = bad_quality = non_student = 0
        bad_lost, bad_fr = self.bad_audio_lost, self.bad_video_fr
        for record in chunk.records:
            if record is None:
                continue
            _, created, classroom, user_type, user, channel, event, fr, vuid, lost, auid, _ = record
            if user is None or channel is None or classroom is None:
                null_keys += 1
                user = -1 if user is None else user
                channel = -1 if channel is None else channel
                classroom = "-1" if classroom is None else classroom
            if (lost is not None and lost >= bad_lost) or (fr is not None and 0 <= fr < bad_fr):
                bad_quality += 1
            if user_type != "student":
                non_student += 1
                continue
            window = created - created % 30_000
            # audio (packets lost) then video (frame rate): each reading adds to its window
            for value, media_uid, suffix in ((lost, auid, AUDIO_SUFFIX), (fr, vuid, VIDEO_SUFFIX)):
                if value is not None and value >= 0:
                    key = (window, user, channel, classroom, media_uid, event, suffix)
                    totals = get(key)
                    if totals is None:
                        windows[key] = [value, 1]
                    else:
                        totals[0] += value
                        totals[1] += 1
        self.null_keys += null_keys
        self.bad_quality += bad_quality
        self.non_student += non_student
        for position in sorted(chunk.late):
            self.late.extend(self.describe_late(chunk.records[position], start_offset + position))

    def describe_late(self, record: AgoraRecord, offset: int) -> list[LateEvent]:
        _, created, classroom, user_type, user, channel, event, fr, vuid, lost, auid, _ = record
        window = created - created % 30_000
        late = []
        for suffix, value, uid in ((AUDIO_SUFFIX, lost, auid), (VIDEO_SUFFIX, fr, vuid)):
            if value is None or value < 0:
                continue
            columns = {
                "start_time": self.clock.format(window),
                "end_time": self.clock.format(window + 30_000),
                "user_id": -1 if user is None else user,
                "web_server_id": -1 if channel is None else channel,
                "classroom_id": "-1" if classroom is None else classroom,
                "user_type": user_type,
                "extra_uid": uid,
                "event": event + suffix,
                "value": value,
                "event_time": self.clock.format(created),
                "event_time_ms": created,
            }
            late.append(LateEvent(AGORA, offset, columns))
        return late

    def expected(self) -> ExpectedMart:
        """Rows in order of first appearance (deterministic, no sort needed)."""
        template = (
            '{"start_time":"%s","end_time":"%s","user_id":%d,"web_server_id":%d,'
            '"classroom_id":"%s","user_type":"student","extra_uid":%d,"event":"%s%s",'
            '"event_sum":%d,"event_avg":%r,"event_count":%d}'
        )
        fmt = self.clock.format
        lines = []
        append = lines.append
        event_count = 0
        for (window, user, channel, classroom, uid, event, suffix), (
            total,
            count,
        ) in self.windows.items():
            event_count += count
            start, end = fmt(window), fmt(window + 30_000)
            append(
                template
                % (
                    start,
                    end,
                    user,
                    channel,
                    classroom,
                    uid,
                    event,
                    suffix,
                    total,
                    total / count,
                    count,
                )
            )
        return ExpectedMart(lines, {"rows": len(lines), "event_count": event_count})


class QosTopic(BaseTopic):
    topic = QOS
    late_capable = True

    def __init__(
        self,
        options: GeneratorOptions,
        clock: BusinessClock,
        rows: dict[int, tuple[QosRecord, QosRecord]],
    ) -> None:
        super().__init__(options, clock)
        self.rows = rows
        self.late: list[LateEvent] = []
        self.successes = 0
        self.repeat_sessions = 0

    def feeding_positions(self, records: list[QosRecord]) -> list[int]:
        rows = self.rows
        return [index for index, record in enumerate(records) if record.seq in rows]

    def format_all(self, records: list[QosRecord]) -> list[str]:
        rand = self.format_rng.random
        patterns, width, templates = PATTERN_TABLE, len(PATTERN_TABLE), QOS_TEMPLATES
        lines: list[str] = []
        quoted = 0
        for event_ms, data_ms, classroom, user_type, user, sub_event, ppt, _ in records:
            pattern = patterns[int(rand() * width)]
            quoted += pattern != 0
            if ppt is None:
                values: tuple[Any, ...] = (classroom, user_type, user, event_ms, sub_event, data_ms)
                lines.append(templates[(pattern, False)] % values)
            else:
                values = (classroom, user_type, user, event_ms, sub_event, data_ms, ppt)
                lines.append(templates[(pattern, True)] % values)
        self.stats.numeric_string_messages += quoted
        return self.write_classroom_ids(lines)

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        for record in chunk.records:
            if record is not None and record.sub_event == "PPT_SUCCESS":
                self.successes += 1
        for position in sorted(chunk.late):
            record = chunk.records[position]
            row = self.row_of(*self.rows[record.seq])
            columns = {
                key: row[key] for key in ("user_id", "classroom_id", "user_type", "spend_time")
            }
            columns["session_start_time"] = row["event_time"]
            columns["event_time"] = self.clock.format_ms(record.event_ms)
            columns["event_time_ms"] = record.event_ms
            columns["data_time_ms"] = record.data_ms
            self.late.append(LateEvent(QOS, start_offset + position, columns))

    def row_of(self, success: QosRecord, earliest: QosRecord) -> dict[str, Any]:
        return {
            "user_id": success.user_id,
            "classroom_id": success.classroom_id,
            "user_type": earliest.user_type,
            "spend_time": success.data_ms - earliest.data_ms,
            "event_time": self.clock.format_ms(earliest.event_ms),
            "create_time": self.clock.format_ms(success.event_ms),
        }

    def expected(self) -> ExpectedMart:
        rows = [self.row_of(success, earliest) for success, earliest in self.rows.values()]
        rows.sort(
            key=lambda row: (
                row["user_id"],
                row["classroom_id"],
                row["create_time"],
                row["spend_time"],
            )
        )
        return ExpectedMart([dump_json(row) for row in rows], {"rows": len(rows)})


class SnapshotTopic(BaseTopic):
    """Users, students, channels, orders: latest version per id, ties to the later message."""

    def __init__(self, options: GeneratorOptions, clock: BusinessClock, topic: str) -> None:
        self.topic = topic
        super().__init__(options, clock)
        self.latest: dict[str, dict[str, Any]] = {}
        self.highest: dict[str, str] = {}
        self.stale = 0
        self.ties = 0

    def format_all(self, records: list[SnapshotRecord]) -> list[str]:
        lines = []
        for record in records:
            document = self.write_ids(record.payload)
            if self.topic != ORDER:
                lines.append(dump_json(document))
                continue
            pattern = PATTERN_TABLE[int(self.format_rng.random() * len(PATTERN_TABLE))]
            if pattern in (1, 2):
                document["cc_id"] = str(document["cc_id"])
            if pattern in (1, 3):
                document["status"] = str(document["status"])
            self.stats.numeric_string_messages += pattern != 0
            lines.append(dump_json(document))
        return lines

    def write_ids(self, payload: dict[str, Any]) -> dict[str, Any]:
        """About one message in five carries its ids as JSON integers (the same ids)."""
        document = dict(payload)
        if self.id_rng.random() < 0.2:
            written = False
            for key in ID_FIELDS[self.topic]:
                value = document.get(key)
                if isinstance(value, str) and value.isdigit():
                    document[key] = int(value)
                    written = True
            self.integer_ids += written
        return document

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        for record in chunk.records:
            if record is None:
                continue
            payload = record.payload
            key, updated = payload["id"], payload["update_time"]
            highest = self.highest.get(key)
            if highest is not None and updated < highest:
                self.stale += 1
                continue
            if highest is not None and updated == highest:
                self.ties += 1
            self.highest[key] = updated
            self.latest[key] = payload


# ---------------------------------------------------------------------------------------
# Marts built from the latest snapshots
