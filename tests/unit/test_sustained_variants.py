"""`classpulse bench sustained --variant`: the variant text and what it changes."""

from __future__ import annotations

import pytest

from classpulse.bench.sustained import Variant, rate_between


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
