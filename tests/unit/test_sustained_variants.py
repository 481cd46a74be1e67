"""`classpulse bench sustained --variant`: the variant text and what it changes."""

from __future__ import annotations

import ctypes
import os
import threading

import pytest

from classpulse.bench.sustained import (
    SustainedResult,
    Variant,
    cpu_by_thread,
    cpu_per_message,
    rate_between,
    thread_cpu,
    thread_group,
)


def test_a_bare_name_is_the_defaults() -> None:
    assert Variant.parse("defaults") == Variant("defaults")


def test_keys_set_parallelism_sinks_profile_variables_and_flink_options() -> None:
    variant = Variant.parse(
        "p1:parallelism=1,one-sink-per-table=false,profile=30,"
        "var.KAFKA_PRODUCER_LINGER_MS=50,table.exec.mini-batch.size=20000"
    )
    assert variant.parallelism == 1
    assert variant.one_sink_per_table is False
    assert variant.profile_seconds == 30.0
    assert variant.variables == (("KAFKA_PRODUCER_LINGER_MS", "50"),)
    assert variant.config == (("table.exec.mini-batch.size", "20000"),)


def test_a_pair_without_a_value_is_refused() -> None:
    with pytest.raises(ValueError, match="key=value"):
        Variant.parse("broken:parallelism")


def test_the_rate_is_taken_between_ten_and_ninety_percent() -> None:
    samples = [(0.0, 0), (1.0, 10), (2.0, 50), (3.0, 90), (4.0, 100)]
    assert rate_between(samples, 100) == 40.0
    assert rate_between(samples[:2], 100) is None


def test_thread_numbers_are_dropped_so_that_threads_of_one_kind_sum() -> None:
    assert thread_group("GC Thread#3") == "GC Thread"
    assert thread_group("kafka-producer-12") == "kafka-producer"
    assert thread_group("OverAggregate[2") == "OverAggregate["  # /proc cuts names at 15
    assert thread_group("42") == "42"


def test_a_stat_line_gives_the_threads_name_and_its_user_plus_system_ticks() -> None:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    stat = "4242 (GC (old) Thread#3) S 1 1 1 0 -1 4194624 10 0 0 0 250 75 0 0 20 0 30 0"
    assert thread_cpu(stat, 100) == ("GC (old) Thread#3", 3.25)


def test_a_threads_cpu_is_read_from_proc_under_its_group() -> None:
    """A thread named like a JVM's (prctl, as /proc shows it) is listed under its group, its
    number dropped (the parse of its ticks is the stat-line test's)."""
    named = threading.Event()
    done = threading.Event()

    def run() -> None:
        ctypes.CDLL(None).prctl(15, b"cpu-burner-7", 0, 0, 0)  # PR_SET_NAME
        named.set()
        done.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    named.wait(10)
    seconds = cpu_by_thread({"python": os.getpid()})
    done.set()
    thread.join()
    assert ("python", "cpu-burner") in seconds
    assert not any(name.startswith("cpu-burner-") for _, name in seconds)


def test_cpu_per_message_sums_by_process_or_thread_group() -> None:
    result = SustainedResult(backlog=1000)
    result.cpu_seconds = {
        ("engine", "Source: KafkaSo"): 0.002,
        ("engine", "GC Thread"): 0.001,
        ("broker", "data-plane-kafk"): 0.004,
    }
    assert cpu_per_message(result) == pytest.approx({"broker": 4.0, "engine": 3.0})
    assert list(cpu_per_message(result)) == ["broker", "engine"]
    assert cpu_per_message(result, by=1)["GC Thread"] == pytest.approx(1.0)
