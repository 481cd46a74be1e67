"""Which built-in GX expectations judge rightly on ClickHouse, and what to write instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


# Built-in expectations that give the right verdict both ways over clickhousedb:// on the
# embedded server (tests/quality/test_clickhouse_support.py proves each one). Anything
# else is written as an sql_check (GX's UnexpectedRowsExpectation).
SUPPORTED_EXPECTATIONS = frozenset(
    {
        "ExpectColumnToExist",
        "ExpectTableColumnsToMatchSet",
        "ExpectTableColumnsToMatchOrderedList",
        "ExpectTableColumnCountToEqual",
        "ExpectTableColumnCountToBeBetween",
        "ExpectTableRowCountToEqual",
        "ExpectTableRowCountToBeBetween",
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeNull",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToNotBeInSet",
        "ExpectColumnValuesToBeUnique",
        "ExpectCompoundColumnsToBeUnique",
        "ExpectSelectColumnValuesToBeUniqueWithinRecord",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        "ExpectColumnPairValuesToBeEqual",
        "ExpectColumnPairValuesToBeInSet",
        "ExpectMulticolumnValuesToBeEqual",
        "ExpectMulticolumnSumToEqual",
        "ExpectColumnMinToBeBetween",
        "ExpectColumnMaxToBeBetween",
        "ExpectColumnMeanToBeBetween",
        "ExpectColumnMedianToBeBetween",
        "ExpectColumnSumToBeBetween",
        "ExpectColumnStdevToBeBetween",
        "ExpectColumnUniqueValueCountToBeBetween",
        "ExpectColumnProportionOfUniqueValuesToBeBetween",
        "ExpectColumnProportionOfNonNullValuesToBeBetween",
        "ExpectColumnDistinctValuesToBeInSet",
        "ExpectColumnDistinctValuesToEqualSet",
        "ExpectColumnDistinctValuesToContainSet",
        "ExpectColumnMostCommonValueToBeInSet",
        "ExpectColumnValueLengthsToBeBetween",
        "ExpectColumnValueLengthsToEqual",
        "ExpectColumnValueZScoresToBeLessThan",
    }
)

# Built-ins measured NOT to work over clickhousedb:// here, and why (the message a suite
# author sees). The support test checks that each still fails, so a GX upgrade that fixes
# one shows up.
UNSUPPORTED_EXPECTATIONS: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "ExpectColumnValuesToMatchRegex",
            "ExpectColumnValuesToNotMatchRegex",
            "ExpectColumnValuesToMatchRegexList",
            "ExpectColumnValuesToNotMatchRegexList",
        ),
        "GX has no regex SQL for the clickhousedb dialect; use match() in an sql_check",
    ),
    **dict.fromkeys(
        (
            "ExpectColumnValuesToMatchLikePattern",
            "ExpectColumnValuesToNotMatchLikePattern",
            "ExpectColumnValuesToMatchLikePatternList",
            "ExpectColumnValuesToNotMatchLikePatternList",
        ),
        "GX has no LIKE SQL for the clickhousedb dialect; use LIKE in an sql_check",
    ),
    **dict.fromkeys(
        ("ExpectColumnValuesToBeOfType", "ExpectColumnValuesToBeInTypeList"),
        "GX cannot map ClickHouse types; compare toTypeName() or system.columns in an sql_check",
    ),
    "ExpectColumnQuantileValuesToBeBetween": (
        "GX emits percentile_disc(), which ClickHouse rejects; use quantileExact() in an sql_check"
    ),
    "ExpectColumnValuesToNotBeOutliers": (
        "GX has no IQR SQL for the clickhousedb dialect; use quantile() in an sql_check"
    ),
    **dict.fromkeys(
        (
            "ExpectColumnValuesToBeIncreasing",
            "ExpectColumnValuesToBeDecreasing",
            "ExpectColumnValuesToBeDateutilParseable",
            "ExpectColumnValuesToBeJsonParseable",
            "ExpectColumnValuesToMatchJsonSchema",
            "ExpectColumnValuesToMatchStrftimeFormat",
        ),
        "GX implements it for pandas/Spark only, not SQL; write it as an sql_check",
    ),
}

# Where an expectation's author wants something GX could do but this gate does differently.
REDIRECTED_EXPECTATIONS: Mapping[str, str] = {
    "UnexpectedRowsExpectation": "write SQL expectations under sql_checks",
    "ExpectTableRowCountToEqualOtherTable": (
        "it only sees tables of the same database; compare counts in an sql_check"
    ),
    "ExpectQueryResultsToMatchComparison": "compare query results in an sql_check",
}
