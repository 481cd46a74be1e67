"""The accounting identities on hand-written output rows (no JVM, no broker).

Per source topic: messages held by offsets = read = accepted + rejected, rejected = dead letters.
Per mart: counted + late = events in, late = rows of late_events, counted = the windowed mart's
event_count. ``topic_accounting`` and ``mart_accounting`` are upsert logs: the newest row per key
(the greatest counter) is the current one; the key names the job run (``first_offset``,
``counting_since``), and runs add up.
"""

from __future__ import annotations

from classpulse.flink.accounting import account


def outputs(**overrides: list[dict]) -> dict[str, list[dict]]:
    rows = {
        "topic_accounting": [
            {
                "topic": "qos_log",
                "source_split": "qos_log/0",
                "first_offset": 0,
                "messages_read": 2,
                "accepted": 2,
                "rejected": 0,
            },
            {
                "topic": "qos_log",
                "source_split": "qos_log/0",
                "first_offset": 0,
                "messages_read": 4,
                "accepted": 3,
                "rejected": 1,
            },
            {
                "topic": "qos_log",
                "source_split": "qos_log/1",
                "first_offset": 0,
                "messages_read": 1,
                "accepted": 1,
                "rejected": 0,
            },
        ],
        "rejected_messages": [{"topic": "qos_log", "reason": "wrong_type", "payload": "{}"}],
        "mart_accounting": [
            {
                "mart": "av_quality_30s",
                "counting_since": 7,
                "events_in": 1,
                "events_counted": 1,
                "events_late": 0,
            },
            {
                "mart": "av_quality_30s",
                "counting_since": 7,
                "events_in": 3,
                "events_counted": 2,
                "events_late": 1,
            },
        ],
        "late_events": [{"mart": "av_quality_30s"}],
        "av_quality_30s": [{"event_count": 2}],
    }
    return {**rows, **overrides}


def test_accounting_takes_the_newest_row_per_key_and_checks_every_identity() -> None:
    result = account(outputs(), {"qos_log": 5}, ("av_quality_30s",))
    (topic,) = result.topics
    assert (topic.messages_read, topic.accepted, topic.rejected, topic.messages_held) == (
        5,
        4,
        1,
        5,
    )
    assert result.rejected_by_reason == {"qos_log": {"wrong_type": 1}}
    (mart,) = result.marts
    assert (mart.events_in, mart.events_counted, mart.events_late, mart.late_rows) == (3, 2, 1, 1)
    assert mart.mart_event_count == 2
    assert result.holds


def test_every_identity_that_breaks_is_caught() -> None:
    # a late event that never reached late_events
    assert not account(outputs(late_events=[]), {"qos_log": 5}).holds
    # a stray dead letter: rejected (1) no longer equals the rows of rejected_messages (2)
    stray = {"topic": "qos_log", "reason": "malformed_json", "payload": "{"}
    doubled = outputs(rejected_messages=[*outputs()["rejected_messages"], stray])
    assert not account(doubled, {"qos_log": 5}).holds
    # the topic holds a message the cleaning never read (or read one twice)
    assert not account(outputs(), {"qos_log": 6}).holds
    assert not account(outputs(), {"qos_log": 4}).holds
    # a windowed mart that counted what its accounting did not
    assert not account(outputs(av_quality_30s=[{"event_count": 3}]), {"qos_log": 5}).holds


def test_a_second_run_adds_to_the_first_instead_of_replacing_it() -> None:
    # a later bounded run (or a job started afresh) read qos_log/0 from offset 4 on: its counters
    # start again from zero under a key of its own
    later_split = {"topic": "qos_log", "source_split": "qos_log/0", "first_offset": 4}
    later = [
        {**later_split, "messages_read": 1, "accepted": 1, "rejected": 0},
        {**later_split, "messages_read": 2, "accepted": 1, "rejected": 1},
    ]
    later_mart = {"mart": "av_quality_30s", "counting_since": 9}
    base = outputs()
    runs = outputs(
        topic_accounting=[*base["topic_accounting"], *later],
        rejected_messages=[*base["rejected_messages"], {**base["rejected_messages"][0]}],
        mart_accounting=[
            *base["mart_accounting"],
            {**later_mart, "events_in": 2, "events_counted": 2, "events_late": 0},
        ],
        av_quality_30s=[{"event_count": 2}, {"event_count": 2}],
    )
    result = account(runs, {"qos_log": 7}, ("av_quality_30s",))
    (topic,) = result.topics
    assert (topic.messages_read, topic.accepted, topic.rejected) == (4 + 1 + 2, 3 + 1 + 1, 1 + 1)
    (mart,) = result.marts
    assert (mart.events_in, mart.events_counted, mart.events_late) == (3 + 2, 2 + 2, 1)
    assert result.holds
