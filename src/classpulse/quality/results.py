"""What the gate found: one outcome per expectation, one result per suite, the run's report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Outcome:
    """The verdict on one expectation or sql_check of a suite."""

    name: str
    success: bool
    observed: str
    is_sql_check: bool = False
    warning: bool = False  # `severity: warning`: a failure is reported, never gates


@dataclass(frozen=True)
class SuiteResult:
    """The verdict on one suite. ``error`` is set when the suite could not be validated."""

    suite: str
    path: Path
    outcomes: tuple[Outcome, ...] = ()
    error: str | None = None
    seconds: float = 0.0

    @property
    def success(self) -> bool:
        return self.error is None and not self.failed

    @property
    def passed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.success]

    @property
    def failed(self) -> list[Outcome]:
        """Failures that fail the suite (a warning's failure is in :attr:`warnings`)."""
        return [outcome for outcome in self.outcomes if not outcome.success and not outcome.warning]

    @property
    def warnings(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.success and outcome.warning]


@dataclass(frozen=True)
class QualityReport:
    """Everything one run of the gate found, suite by suite, in the order they were given."""

    results: tuple[SuiteResult, ...]
    docs_index: Path | None
    seconds: float

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results)

    @property
    def failed(self) -> list[SuiteResult]:
        return [result for result in self.results if not result.success]

    def result(self, suite: str) -> SuiteResult:
        """The result of the suite named ``<layer>.<table>``."""
        for item in self.results:
            if item.suite == suite:
                return item
        raise KeyError(suite)
