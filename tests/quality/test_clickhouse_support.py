"""Which built-in GX expectations work over ``clickhousedb://`` on the embedded server.

GX calls its ClickHouse support "seen to work, not guaranteed", so each expectation the
gate accepts (``SUPPORTED_EXPECTATIONS``) is proven here to pass on data that satisfies
it and to fail on arguments the same data violates, without errors. Each one the gate
rejects (``UNSUPPORTED_EXPECTATIONS``) is shown still to break, so a GX upgrade that fixes
one is noticed. Everything else is written as an sql_check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import pytest
from clickhouse_connect.driver.client import Client

from classpulse.config import Settings
from classpulse.quality import SUPPORTED_EXPECTATIONS, UNSUPPORTED_EXPECTATIONS

DATABASE = "gx_probe"
COLUMNS = [
    "lesson_id",
    "lesson_key",
    "room",
    "status",
    "note",
    "attendees",
    "seats",
    "present",
    "absent",
    "score",
    "started_at",
]
STATUS_PAIRS = [["r1", "live"], ["r1", "ended"], ["r2", "live"], ["r2", "ended"], ["r3", "live"]]

# name -> [(arguments the probe rows satisfy, arguments they violate), ...]
SUPPORTED_CASES: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
    "ExpectColumnToExist": [({"column": "room"}, {"column": "nope"})],
    "ExpectTableColumnsToMatchSet": [
        ({"column_set": COLUMNS}, {"column_set": [*COLUMNS[:-1], "nope"], "exact_match": True})
    ],
    "ExpectTableColumnsToMatchOrderedList": [
        ({"column_list": COLUMNS}, {"column_list": COLUMNS[::-1]})
    ],
    "ExpectTableColumnCountToEqual": [({"value": 11}, {"value": 12})],
    "ExpectTableColumnCountToBeBetween": [({"min_value": 11, "max_value": 11}, {"min_value": 12})],
    "ExpectTableRowCountToEqual": [({"value": 6}, {"value": 7})],
    "ExpectTableRowCountToBeBetween": [({"min_value": 1, "max_value": 6}, {"min_value": 7})],
    "ExpectColumnValuesToNotBeNull": [({"column": "lesson_id"}, {"column": "note"})],
    "ExpectColumnValuesToBeNull": [({"column": "note", "mostly": 0.1}, {"column": "note"})],
    "ExpectColumnValuesToBeBetween": [
        (
            {"column": "score", "min_value": 0, "max_value": 1},
            {"column": "score", "min_value": 0, "max_value": 0.95},
        ),
        (
            {
                "column": "started_at",
                "min_value": "2024-01-01T00:00:00",
                "max_value": "2024-01-02T00:00:00",
            },
            {"column": "started_at", "min_value": "2024-01-01T12:00:00"},
        ),
    ],
    "ExpectColumnValuesToBeInSet": [
        (
            {"column": "status", "value_set": ["live", "ended"]},
            {"column": "status", "value_set": ["live"]},
        )
    ],
    "ExpectColumnValuesToNotBeInSet": [
        (
            {"column": "status", "value_set": ["cancelled"]},
            {"column": "status", "value_set": ["ended"]},
        )
    ],
    "ExpectColumnValuesToBeUnique": [({"column": "lesson_id"}, {"column": "room"})],
    "ExpectCompoundColumnsToBeUnique": [
        ({"column_list": ["room", "lesson_id"]}, {"column_list": ["room", "status"]})
    ],
    "ExpectSelectColumnValuesToBeUniqueWithinRecord": [
        ({"column_list": ["lesson_id", "attendees"]}, {"column_list": ["present", "absent"]})
    ],
    "ExpectColumnPairValuesAToBeGreaterThanB": [
        (
            {"column_A": "seats", "column_B": "attendees"},
            {"column_A": "attendees", "column_B": "seats"},
        )
    ],
    "ExpectColumnPairValuesToBeEqual": [
        (
            {"column_A": "lesson_id", "column_B": "lesson_key"},
            {"column_A": "lesson_id", "column_B": "attendees"},
        )
    ],
    "ExpectColumnPairValuesToBeInSet": [
        (
            {"column_A": "room", "column_B": "status", "value_pairs_set": STATUS_PAIRS},
            {"column_A": "room", "column_B": "status", "value_pairs_set": STATUS_PAIRS[:2]},
        )
    ],
    "ExpectMulticolumnValuesToBeEqual": [
        ({"column_list": ["lesson_id", "lesson_key"]}, {"column_list": ["lesson_id", "attendees"]})
    ],
    "ExpectMulticolumnSumToEqual": [
        (
            {"column_list": ["present", "absent"], "sum_total": 10},
            {"column_list": ["present", "absent"], "sum_total": 11},
        )
    ],
    "ExpectColumnStdevToBeBetween": [
        (
            {"column": "attendees", "min_value": 18, "max_value": 19},
            {"column": "attendees", "max_value": 1},
        )
    ],
    "ExpectColumnUniqueValueCountToBeBetween": [
        ({"column": "room", "min_value": 3, "max_value": 3}, {"column": "room", "min_value": 4})
    ],
    "ExpectColumnProportionOfUniqueValuesToBeBetween": [
        ({"column": "lesson_id", "min_value": 1}, {"column": "room", "min_value": 1})
    ],
    "ExpectColumnProportionOfNonNullValuesToBeBetween": [
        ({"column": "lesson_id", "min_value": 1}, {"column": "note", "min_value": 1})
    ],
    "ExpectColumnDistinctValuesToBeInSet": [
        (
            {"column": "status", "value_set": ["live", "ended", "cancelled"]},
            {"column": "status", "value_set": ["live"]},
        )
    ],
    "ExpectColumnDistinctValuesToEqualSet": [
        (
            {"column": "status", "value_set": ["live", "ended"]},
            {"column": "status", "value_set": ["live", "ended", "cancelled"]},
        )
    ],
    "ExpectColumnDistinctValuesToContainSet": [
        (
            {"column": "status", "value_set": ["live"]},
            {"column": "status", "value_set": ["cancelled"]},
        )
    ],
    "ExpectColumnMostCommonValueToBeInSet": [
        ({"column": "status", "value_set": ["live"]}, {"column": "status", "value_set": ["ended"]})
    ],
    "ExpectColumnValueLengthsToBeBetween": [
        (
            {"column": "status", "min_value": 4, "max_value": 5},
            {"column": "status", "min_value": 4, "max_value": 4},
        )
    ],
    "ExpectColumnValueLengthsToEqual": [
        ({"column": "room", "value": 2}, {"column": "room", "value": 3})
    ],
    "ExpectColumnValueZScoresToBeLessThan": [
        (
            {"column": "attendees", "threshold": 3, "double_sided": True},
            {"column": "attendees", "threshold": 0.1, "double_sided": True},
        )
    ],
}

# aggregates of `attendees` (10, 20, ..., 60): name -> (its value, a bound the value violates)
ATTENDEE_AGGREGATES: dict[str, tuple[int, dict[str, int]]] = {
    "ExpectColumnMinToBeBetween": (10, {"min_value": 11}),
    "ExpectColumnMaxToBeBetween": (60, {"max_value": 59}),
    "ExpectColumnMeanToBeBetween": (35, {"min_value": 36}),
    "ExpectColumnMedianToBeBetween": (35, {"min_value": 36}),
    "ExpectColumnSumToBeBetween": (210, {"min_value": 211}),
}
SUPPORTED_CASES.update(
    {
        name: [
            (
                {"column": "attendees", "min_value": value, "max_value": value},
                {"column": "attendees", **violated},
            )
        ]
        for name, (value, violated) in ATTENDEE_AGGREGATES.items()
    }
)

# name -> arguments the probe rows satisfy (so anything but a clean pass means "broken")
UNSUPPORTED_CASES: dict[str, dict[str, Any]] = {
    "ExpectColumnValuesToMatchRegex": {"column": "room", "regex": "^r[0-9]$"},
    "ExpectColumnValuesToNotMatchRegex": {"column": "room", "regex": "^x"},
    "ExpectColumnValuesToMatchRegexList": {"column": "room", "regex_list": ["^r"]},
    "ExpectColumnValuesToNotMatchRegexList": {"column": "room", "regex_list": ["^x"]},
    "ExpectColumnValuesToMatchLikePattern": {"column": "room", "like_pattern": "r%"},
    "ExpectColumnValuesToNotMatchLikePattern": {"column": "room", "like_pattern": "x%"},
    "ExpectColumnValuesToMatchLikePatternList": {"column": "room", "like_pattern_list": ["r%"]},
    "ExpectColumnValuesToNotMatchLikePatternList": {"column": "room", "like_pattern_list": ["x%"]},
    "ExpectColumnValuesToBeOfType": {"column": "lesson_id", "type_": "UInt32"},
    "ExpectColumnValuesToBeInTypeList": {"column": "lesson_id", "type_list": ["UInt32"]},
    "ExpectColumnQuantileValuesToBeBetween": {
        "column": "attendees",
        "quantile_ranges": {"quantiles": [0.5], "value_ranges": [[0, 100]]},
    },
    "ExpectColumnValuesToNotBeOutliers": {"column": "attendees"},
    "ExpectColumnValuesToBeIncreasing": {"column": "lesson_id"},
    "ExpectColumnValuesToBeDecreasing": {"column": "lesson_id", "mostly": 0.01},
    "ExpectColumnValuesToBeDateutilParseable": {"column": "note", "mostly": 0.01},
    "ExpectColumnValuesToBeJsonParseable": {"column": "note", "mostly": 0.01},
    "ExpectColumnValuesToMatchJsonSchema": {"column": "note", "json_schema": {}},
    "ExpectColumnValuesToMatchStrftimeFormat": {
        "column": "note",
        "strftime_format": "%Y",
        "mostly": 0.01,
    },
}


@pytest.fixture(scope="module")
def batch(gate_client: Client, warehouse: Settings) -> Iterator[Any]:
    """A whole-table GX batch of six probe lessons, through ``clickhousedb://``."""
    gate_client.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    gate_client.command(f"DROP TABLE IF EXISTS {DATABASE}.lessons")
    gate_client.command(
        f"CREATE TABLE {DATABASE}.lessons (lesson_id UInt32, lesson_key UInt32, "
        "room LowCardinality(String), status String, note Nullable(String), attendees UInt16, "
        "seats UInt16, present UInt8, absent UInt8, score Float64, "
        "started_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY lesson_id"
    )
    start = dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)
    rooms = ["r1", "r1", "r2", "r2", "r3", "r3"]
    statuses = ["live", "ended", "live", "ended", "live", "live"]
    notes = ["a", "b", "c", "d", "e", None]
    seats = [50, 50, 50, 50, 60, 70]
    present = [7, 8, 9, 10, 5, 6]
    rows = [
        (
            i + 1,
            i + 1,
            rooms[i],
            statuses[i],
            notes[i],
            10 * (i + 1),
            seats[i],
            present[i],
            10 - present[i],
            0.5 + i / 10,
            start + dt.timedelta(hours=i),
        )
        for i in range(6)
    ]
    gate_client.insert(f"{DATABASE}.lessons", rows)
    context = gx.get_context(mode="ephemeral")
    datasource = context.data_sources.add_sql(
        name="probe", connection_string=warehouse.sqlalchemy_url(DATABASE)
    )
    asset = datasource.add_table_asset(name="lessons", table_name="lessons")
    yield asset.add_batch_definition_whole_table(name="whole_table").get_batch()


def verdict(batch: Any, name: str, arguments: dict[str, Any]) -> str:
    """'pass', 'fail' or 'error: …' for one expectation on the probe batch."""
    result = batch.validate(getattr(gxe, name)(**arguments))
    info = result.exception_info or {}
    raised = [info] if "raised_exception" in info else list(info.values())
    for item in raised:
        if isinstance(item, dict) and item.get("raised_exception") not in (None, False, "False"):
            return f"error: {item.get('exception_message')}"
    return "pass" if result.success else "fail"


def test_every_gate_expectation_has_a_probe() -> None:
    assert set(SUPPORTED_CASES) == SUPPORTED_EXPECTATIONS
    assert set(UNSUPPORTED_CASES) == set(UNSUPPORTED_EXPECTATIONS)


@pytest.mark.parametrize(
    ("name", "satisfied", "violated"),
    [
        pytest.param(name, satisfied, violated, id=f"{name}-{index}")
        for name, cases in SUPPORTED_CASES.items()
        for index, (satisfied, violated) in enumerate(cases)
    ],
)
def test_supported_expectation_judges_both_ways(
    batch: Any, name: str, satisfied: dict[str, Any], violated: dict[str, Any]
) -> None:
    assert verdict(batch, name, satisfied) == "pass"
    assert verdict(batch, name, violated) == "fail"


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_CASES))
def test_unsupported_expectation_still_breaks(batch: Any, name: str) -> None:
    assert verdict(batch, name, UNSUPPORTED_CASES[name]) != "pass"
