"""Names the generator shares with the data contract: topics, marts, columns, field lists."""

from __future__ import annotations

HOUR_MS = 3_600_000
JITTER_BOUND_MS = 2_000
FUTURE_LIMIT_MS = 300_000
REASONS: tuple[str, ...] = ("malformed_json", "missing_field", "wrong_type", "future_timestamp")
MANIFEST_NAME = "_manifest.json"
EXPECTED_DIR = "_expected"
LATE_DIR = "late_events"

TIMELINE = "timeline_client_topic"
AGORA = "agora_record"
QOS = "qos_log"
STUDENT = "uc_account-student"
USER = "uc_account-user"
CHANNEL = "blink_stg_activity__channel_name_dictionary_da"
ORDER = "data_pack_order_info"

CLASSROOM_MART = "classroom_performance_1min"
RECORDED_MART = "recorded_course_enter_time"
AV_MART = "av_quality_30s"
REGISTRATION_MART = "registrations_hourly_by_level"
CC_MART = "cc_daily_tracking"
MARTS: tuple[str, ...] = (CLASSROOM_MART, RECORDED_MART, AV_MART, REGISTRATION_MART, CC_MART)
MART_COLUMNS: dict[str, tuple[str, ...]] = {
    CLASSROOM_MART: (
        "start_time",
        "end_time",
        "webserver_id",
        "user_id",
        "role",
        "event",
        "event_count",
    ),
    RECORDED_MART: (
        "user_id",
        "classroom_id",
        "user_type",
        "spend_time",
        "event_time",
        "create_time",
    ),
    AV_MART: (
        "start_time",
        "end_time",
        "user_id",
        "web_server_id",
        "classroom_id",
        "user_type",
        "extra_uid",
        "event",
        "event_sum",
        "event_avg",
        "event_count",
    ),
    REGISTRATION_MART: ("reg_hour", "level", "leads"),
    CC_MART: ("cc_id", "cc_index", "type", "attribution_date", "update_time"),
}

Path_ = tuple[str, ...]
REQUIRED_FIELDS: dict[str, tuple[Path_, ...]] = {
    TIMELINE: (
        ("createTime",),
        ("data", "userid"),
        ("data", "roomid"),
        ("data", "timestamp"),
        ("data", "role"),
        ("data", "msgid"),
        ("data", "msg", "msgtype"),
    ),
    AGORA: (("event",), ("user_type",), ("messageCreateTime",)),
    QOS: (("classroom_id",), ("user_id",), ("event_time",), ("sub_event",), ("extra", "data_time")),
    STUDENT: (("id",), ("update_time",)),  # channel_id may be null or absent: level other
    USER: (("id",), ("name",), ("register_date_time",), ("status",), ("update_time",)),
    CHANNEL: (("id",), ("level",), ("update_time",)),
    ORDER: (("id",), ("cc_id",), ("status",), ("update_time",)),
}
NUMERIC_FIELDS: dict[str, tuple[Path_, ...]] = {
    TIMELINE: REQUIRED_FIELDS[TIMELINE] + (("data", "msg", "msg_data", "page_index"),),
    AGORA: (
        ("messageCreateTime",),
        ("user_id",),
        ("agora_channel_id",),
        ("agora_videoState", "fr"),
        ("agora_videoState", "uid"),
        ("agora_audioState", "lost"),
        ("agora_audioState", "uid"),
    ),
    QOS: (("user_id",), ("event_time",), ("extra", "data_time"), ("extra", "msg", "pptIndex")),
    STUDENT: (),
    USER: (),
    CHANNEL: (),
    ORDER: (("cc_id",), ("status",)),
}

# Required datetime fields ('YYYY-MM-DD HH:MM:SS'); an invalid one is wrong_type.
DATETIME_FIELDS: dict[str, tuple[Path_, ...]] = {
    TIMELINE: (),
    AGORA: (),
    QOS: (),
    STUDENT: (("update_time",),),
    USER: (("register_date_time",), ("update_time",)),
    CHANNEL: (("update_time",),),
    ORDER: (("update_time",),),
}
# Ids written as a JSON integer or a string ("42" and 42 are the same id).
ID_FIELDS: dict[str, tuple[str, ...]] = {
    STUDENT: ("id", "channel_id"),
    USER: ("id",),
    CHANNEL: ("id",),
    ORDER: ("id", "student_id", "order_id"),
}

STUDENT_EVENTS: tuple[str, ...] = (
    "STUDENT_MOVE_PICTURE",
    "STUDENT_HOVER_PICTURE",
    "STUDENT_LINE_DRAW",
    "STUDENT_AUDIO_PLAY",
    "STUDENT_AUDIO_PAUSE",
    "STUDENT_MATCH_WRONG",
    "STUDENT_MATCH_CORRECT",
)
LEVELS_AD = ("A", "B", "C", "D")
OTHER_LEVELS = ("E", "S", "a", "VIP")
