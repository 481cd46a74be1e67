"""Signal generator: a simulated day of an online school on the seven contract topics.

``classpulse generate`` simulates one business day (``--start``, business time zone from
settings, Asia/Shanghai by default): live lessons in rooms with a teacher and students
(courseware actions on ``timeline_client_topic``, audio/video quality every few seconds on
``agora_record``), recorded-course sessions (``qos_log``), registrations and account updates
(``uc_account-user``, ``uc_account-student``), the channel dictionary and course-consultant
order follow-ups. It injects every kind of bad input named in
``shared/spec/DATA_CONTRACT.md`` and writes, next to the topics, what it generated:
``_manifest.json`` (parameters, counts per topic and reason, anomaly counts, late events
per mart, mart totals) and ``_expected/<mart>.jsonl``, the complete offline mart rows
computed here from the generator's own records (late events included), plus
``_expected/late_events/<mart>.jsonl``, the events a real-time window drops.

Modules, in the order a day is made
- ``options``: options, business clock, random streams; ``contract``: topic, mart and
  field names; ``records``: the named records.
- ``world`` (lessons, recorded courses), ``kinds`` (courseware message kinds) and
  ``accounts`` (channels, accounts, orders): the simulated day.
- ``formats`` and ``kinds``: how a record becomes a line; ``badinput``: corrupted copies;
  ``arrange``: arrival order, late events and rejected copies per chunk; ``handlers``: one
  per topic, formatting and accumulating the expected marts.
- ``expected``: the mart rules, expected rows and manifest; ``output``: files or replay;
  ``run``: :func:`generate`.

Layout and order
- One file per topic per UTC hour of arrival (``YYYYMMDDTHH0000Z.jsonl``), or with
  ``--rate`` one small file per topic per second of replay
  (``YYYYMMDDTHHMMSSmmmZ-<tick>.jsonl``); file-name order is time order.
- Inside a file, events follow arrival order; event times are in order up to a jitter
  below 2 s, except the injected late events, each written right after an event whose
  event time is at least ``late_min`` (default 5 min) ahead of it.
- Numbers are written as JSON numbers or as numeric strings (mixed within and across
  messages); ids of snapshot topics (id, channel_id, student_id, order_id) are strings, or
  JSON integers in about one message in five (the same ids); classroom ids of qos_log and
  agora_record are strings, or JSON integers in about one message in ten;
  nullable numbers of ``agora_record`` (user_id, agora_channel_id) may be ``null``; a
  student's ``channel_id`` may be ``null`` or absent (a valid student, level ``other``).
- Every rejected message is an extra, corrupted copy of a valid one, written right after
  it; the valid messages alone are the simulated day.
- Run it twice with the same options and every file is byte-identical: each component
  draws from its own ``random.Random`` seeded from ``--seed``, nothing reads the clock.

Rules decided where the contract leaves room (also listed in the manifest's ``rules``)
- Rejection precedence: not a JSON object -> ``malformed_json``; a required field absent
  or null -> ``missing_field``; a numeric field (required or not) holding a non-numeric
  string, or a required datetime field (register_date_time, update_time) holding a string
  that is not a valid ``YYYY-MM-DD HH:MM:SS`` (``yesterday``, ``N/A``,
  ``2024-02-30 10:00:00``) -> ``wrong_type``; ``timeline_client_topic`` with
  ``data.timestamp - createTime > 300000`` ms -> ``future_timestamp``. Each injected bad
  message has exactly one defect; every numeric and required datetime field of a topic gets
  at least one ``wrong_type`` copy (with a positive share). Numeric means an integer as a
  JSON number or a string matching ``-?[0-9]+``.
- Late events are injected only into events that feed a windowed mart: classified student
  events (classroom_performance_1min), student agora records with a usable metric
  (av_quality_30s) and PPT_SUCCESS messages that produce a row
  (recorded_course_enter_time). A late courseware message keeps its client
  ``data.timestamp`` and gets the ``createTime`` of the event it follows (the server got
  it late). Lateness is measured on ``data.timestamp``, ``messageCreateTime`` and
  ``extra.data_time``. A late agora record counts once per metric it feeds (audio, video),
  the unit of ``event_count``. registrations_hourly_by_level and cc_daily_tracking are
  latest-version aggregates without a window: no late events (stale snapshot versions
  are counted as the anomaly ``stale_snapshot_versions`` instead).
- Share semantics: a share is the fraction of candidate messages (valid messages of the
  topic; feeding events for late) that get the defect; with a positive share each topic
  (for late: each mart) gets at least one.
- classroom_performance_1min and av_quality_30s windows are epoch-aligned (UTC);
  all datetime strings in ``_expected`` are in the business time zone, to the second, except
  recorded_course_enter_time's ``event_time`` and ``create_time`` (epoch fields: to the
  millisecond, ``YYYY-MM-DD HH:MM:SS.mmm``).
- recorded_course_enter_time: earlier events are valid qos_log messages of the same
  ``user_id`` (numeric) and ``classroom_id`` (string) with ``extra.data_time`` strictly
  below the PPT_SUCCESS's and at least ``data_time - lookback`` (3 h inclusive). Among
  earliest-time ties the smallest ``event_time`` wins. ``user_type`` and ``event_time``
  come from that earliest event (the seed's left side); ``create_time`` is the
  PPT_SUCCESS's ``event_time`` (the seed used processing time, which nothing can check).
- av_quality_30s: ``event_avg`` = event_sum / event_count as a float.
- Snapshots: latest version per id by ``update_time`` (string order of
  ``YYYY-MM-DD HH:MM:SS``), ties to the later message; channels too.
  registrations_hourly_by_level: ``reg_hour`` from the latest user's
  ``register_date_time``; the test-account rule applies to the latest user's ``name``.
- cc_daily_tracking: ``attribution_date`` = date part of ``confirm_date_time`` (business
  time zone), ``update_time`` = greatest ``update_time`` among the counted orders.
"""

from classpulse.generator.contract import (
    EXPECTED_DIR,
    LATE_DIR,
    MANIFEST_NAME,
    MART_COLUMNS,
    MARTS,
    REASONS,
)
from classpulse.generator.options import BusinessClock, GeneratorError, GeneratorOptions
from classpulse.generator.records import AgoraRecord, QosRecord, SnapshotRecord, TimelineRecord
from classpulse.generator.run import GenerationResult, default_start, generate

__all__ = [
    "EXPECTED_DIR",
    "LATE_DIR",
    "MANIFEST_NAME",
    "MARTS",
    "MART_COLUMNS",
    "REASONS",
    "AgoraRecord",
    "BusinessClock",
    "GenerationResult",
    "GeneratorError",
    "GeneratorOptions",
    "QosRecord",
    "SnapshotRecord",
    "TimelineRecord",
    "default_start",
    "generate",
]
