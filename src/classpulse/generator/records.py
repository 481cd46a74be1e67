"""Named records the simulation produces, one per message before it is formatted.

Records are NamedTuples: built by the million, sorted by their first field (arrival) and
read by position in the hot loops, yet readable by name everywhere else.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class TimelineRecord(NamedTuple):
    """One courseware message of timeline_client_topic."""

    create_ms: int  # server receive time (createTime), the arrival order
    client_ms: int  # client time (data.timestamp), the event time
    user_id: int
    room_id: int
    kind: int  # index into kinds.KINDS
    fragment: int  # index into the kind's msg_data fragments
    page: int


class AgoraRecord(NamedTuple):
    """One audio/video quality record of agora_record; fr/lost None = that state is absent."""

    arrival_ms: int
    create_ms: int  # messageCreateTime, the event time
    classroom_id: str | None
    user_type: str
    user_id: int | None
    channel_id: int | None
    event: str
    fr: int | None
    video_uid: int
    lost: int | None
    audio_uid: int
    feeds: bool  # feeds av_quality_30s (a student with a usable metric)


class QosRecord(NamedTuple):
    """One recorded-course event of qos_log."""

    event_ms: int  # event_time, the arrival order
    data_ms: int  # extra.data_time, the event time
    classroom_id: str
    user_type: str
    user_id: int
    sub_event: str
    ppt_index: int | None
    seq: int  # unique per record, in creation order


class SnapshotRecord(NamedTuple):
    """One version of a snapshot topic's row (user, student, channel, order)."""

    arrival_ms: int
    seq: int
    payload: dict[str, Any]
