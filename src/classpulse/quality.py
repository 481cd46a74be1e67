"""The quality gate: Great Expectations suites in YAML, validated as SQL on the warehouse.

One suite per table lives in ``expectations/<layer>/<table>.yml`` (format:
expectations/README.md). :func:`run_quality` reads the suites, checks that their tables
exist and validates them in one GX Checkpoint through SQL datasources built from
``Settings.sqlalchemy_url``, so every expectation runs as a query on ClickHouse.
Validation results and Data Docs are kept under ``<CLASSPULSE_HOME>/gx`` (pruned after
:data:`HISTORY_DAYS`); nothing else is persisted: the GX context is ephemeral, so no
connection string lands on disk.

:func:`check_suite_files` checks the suite files' shape without a warehouse: YAML, keys,
expectation names and arguments (GX's own models), SQL placeholders.

Great Expectations is imported lazily: importing this module costs nothing (Airflow DAGs
and the CLI import it at parse time).
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from difflib import get_close_matches
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classpulse.config import Settings
from classpulse.warehouse import LAYER_DATABASES

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.expectations import Expectation

SUITES_DIRECTORY = "expectations"
SUITE_SUFFIX = ".yml"
GX_DIRECTORY = "gx"
DATASOURCE_NAME = "warehouse"
CHECKPOINT_NAME = "classpulse_quality"
HISTORY_DAYS = 30
OFFSET_ACCOUNTING_SUITE = "ods.offset_accounting"
"""Its table is a snapshot of Kafka's offsets and the warehouse's counts, taken at each run."""
"""Validation results and their Data Docs pages older than this are deleted after a run."""
DOCS_INDEX_LIMIT = 500
"""The Data Docs index lists at most this many (newest) validation results."""

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

SUITE_KEYS = ("table", "description", "where", "expectations", "sql_checks")
SQL_CHECK_KEYS = ("name", "description", "sql")
SQL_CHECK_OPTIONAL_KEYS = ("severity",)
SEVERITIES = ("critical", "warning")  # a failed `warning` is reported, never gates
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
JOIN_KEYWORD = re.compile(r"\bJOIN\b", re.IGNORECASE)
BATCH_ALIAS = re.compile(r"\{batch\}\s+AS\s+\w", re.IGNORECASE)


class QualityError(Exception):
    """The gate could not run (bad suite file, unreachable warehouse): nothing was judged."""


class SuiteFileError(QualityError):
    """One or more suite files are malformed; ``problems`` maps each file to what is wrong."""

    def __init__(self, problems: Mapping[Path, Sequence[str]]) -> None:
        self.problems = {path: list(items) for path, items in problems.items()}
        lines = []
        for path, items in self.problems.items():
            lines.append(f"{path}:")
            lines.extend(f"  - {item}" for item in items)
        super().__init__("malformed suite file(s):\n" + "\n".join(lines))


@dataclass(frozen=True)
class ExpectationSpec:
    """One built-in GX expectation of a suite: its class name and keyword arguments."""

    type: str
    kwargs: Mapping[str, Any]

    @property
    def label(self) -> str:
        """A short name for reports: ``ExpectColumnValuesToNotBeNull(student_id)``."""
        columns = [
            self.kwargs[key] for key in ("column", "column_A", "column_B") if key in self.kwargs
        ]
        columns += list(self.kwargs.get("column_list") or [])
        if not columns:
            return self.type
        return f"{self.type}({', '.join(str(column) for column in columns)})"

    def build(self) -> Expectation:
        """The GX expectation, labelled in ``meta`` so its result maps back to this label."""
        import great_expectations.expectations as gxe

        expectation_class = getattr(gxe, self.type)
        return expectation_class(**self.kwargs, meta={"classpulse_label": self.label})


@dataclass(frozen=True)
class SqlCheck:
    """A query returning the offending rows; run as GX's UnexpectedRowsExpectation."""

    name: str
    description: str
    sql: str
    severity: str = "critical"


@dataclass(frozen=True)
class Suite:
    """A parsed suite file: the table it checks and what it expects of it."""

    path: Path
    layer: str
    table: str
    description: str
    where: str | None
    expectations: tuple[ExpectationSpec, ...]
    sql_checks: tuple[SqlCheck, ...]

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}"

    def batch_query(self) -> str | None:
        """The SELECT a ``where`` suite validates (None: the whole table)."""
        if self.where is None:
            return None
        return f"SELECT * FROM `{self.layer}`.`{self.table}` WHERE {self.where}"

    def build_expectations(self) -> list[Expectation]:
        """The GX expectation objects, labelled in ``meta`` so results map back to names."""
        import great_expectations.expectations as gxe

        built = [spec.build() for spec in self.expectations]
        for check in self.sql_checks:
            built.append(
                gxe.UnexpectedRowsExpectation(
                    unexpected_rows_query=check.sql,
                    description=check.description,
                    severity=check.severity,
                    meta={"classpulse_label": check.name, "classpulse_sql_check": True},
                )
            )
        return built


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


# --------------------------------------------------------------------------- suite files


def discover_suite_files(directory: Path) -> list[Path]:
    """Every ``*.yml`` suite under ``directory``, sorted."""
    return sorted(path for path in directory.rglob(f"*{SUITE_SUFFIX}") if path.is_file())


def select_suite_files(
    directory: Path, names: Sequence[str] = (), layers: Sequence[str] = ()
) -> list[Path]:
    """Suite files by name (``ods/rejected_messages``, ``ods.rejected_messages`` or a path)
    and by layer folder; all of ``directory`` when neither is given."""
    if not names and not layers:
        return discover_suite_files(directory)
    chosen: list[Path] = []
    unknown: list[str] = []
    for name in names:
        as_path = Path(name)
        candidates = [as_path] if as_path.suffix == SUITE_SUFFIX else []
        stem = name.removesuffix(SUITE_SUFFIX)
        if "/" not in stem and stem.count(".") == 1:
            stem = stem.replace(".", "/")
        candidates.append(directory / f"{stem}{SUITE_SUFFIX}")
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            unknown.append(name)
        else:
            chosen.append(found)
    for layer in layers:
        files = discover_suite_files(directory / layer) if (directory / layer).is_dir() else []
        if not files:
            unknown.append(f"layer {layer}")
        chosen.extend(files)
    if unknown:
        raise QualityError(f"no suite file for: {', '.join(unknown)} (looked in {directory})")
    unique: dict[Path, None] = dict.fromkeys(path.resolve() for path in chosen)
    return list(unique)


def load_suite(path: Path) -> Suite:
    """Parse and check one suite file; raise :class:`SuiteFileError` naming every problem."""
    suite, problems = _parse_suite(path)
    if problems or suite is None:
        raise SuiteFileError({path: problems})
    return suite


def load_suites(paths: Iterable[Path]) -> list[Suite]:
    """Parse every file; one :class:`SuiteFileError` lists the problems of all bad files."""
    suites: list[Suite] = []
    problems: dict[Path, list[str]] = {}
    for path in dict.fromkeys(paths):  # the same file twice is one suite
        suite, found = _parse_suite(path)
        if found or suite is None:
            problems[path] = found
        else:
            suites.append(suite)
    by_name: dict[str, Path] = {}
    for suite in suites:
        if suite.name in by_name and by_name[suite.name] != suite.path:
            problems.setdefault(suite.path, []).append(
                f"suite {suite.name} is also defined by {by_name[suite.name]}"
            )
        by_name[suite.name] = suite.path
    if problems:
        raise SuiteFileError(problems)
    return suites


def check_suite_files(
    directory: Path, layers: Sequence[str] | None = LAYER_DATABASES
) -> dict[Path, list[str]]:
    """The shape problems of every suite file under ``directory`` (empty: all well-formed).

    Needs no warehouse. Besides each file's content it checks the layout: files sit at
    ``<layer>/<table>.yml`` with ``<layer>`` one of ``layers`` (None: any folder name).
    """
    problems: dict[Path, list[str]] = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if path.is_file() and path.suffix in {".yaml", ".json"}:
            problems[path] = [f"suite files end in {SUITE_SUFFIX}"]
            continue
        if not path.is_file() or path.suffix != SUITE_SUFFIX:
            continue
        found = _parse_suite(path)[1]
        if len(relative.parts) != 2:
            found.insert(0, f"suite files sit at <layer>/<table>{SUITE_SUFFIX}, not {relative}")
        elif layers is not None and relative.parts[0] not in layers:
            found.insert(0, f"unknown layer {relative.parts[0]!r} (one of {', '.join(layers)})")
        if found:
            problems[path] = found
    return problems


def _parse_suite(path: Path) -> tuple[Suite | None, list[str]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    problems: list[str] = []
    layer, table_from_name = path.parent.name, path.stem
    if not IDENTIFIER.match(layer):
        problems.append(f"folder {layer!r} is not a database name")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"cannot read: {exc}"]
    try:
        document = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return None, [f"invalid YAML: {where}{exc.problem or exc.context}"]
    except YAMLError as exc:
        return None, [f"invalid YAML: {exc}"]
    if not isinstance(document, dict):
        return None, ["expected a mapping with keys: " + ", ".join(SUITE_KEYS)]
    unknown = [str(key) for key in document if key not in SUITE_KEYS]
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(SUITE_KEYS)})")
    table = document.get("table")
    if not isinstance(table, str) or not IDENTIFIER.match(table):
        problems.append("`table` must be the table's name")
    elif table != table_from_name:
        problems.append(f"`table: {table}` does not match the file name {path.name}")
    description = document.get("description") or ""
    if not isinstance(description, str):
        problems.append("`description` must be text")
    where = document.get("where")
    if where is not None and (not isinstance(where, str) or not where.strip()):
        problems.append("`where` must be a ClickHouse boolean expression")
    expectations = _parse_expectations(document.get("expectations"), problems)
    sql_checks = _parse_sql_checks(document.get("sql_checks"), problems)
    if not problems and not expectations and not sql_checks:
        problems.append("the suite has neither expectations nor sql_checks")
    if problems:
        return None, problems
    return Suite(
        path=path,
        layer=layer,
        table=str(table),
        description=str(description).strip(),
        where=where.strip() if isinstance(where, str) else None,
        expectations=tuple(expectations),
        sql_checks=tuple(sql_checks),
    ), []


def _parse_expectations(value: object, problems: list[str]) -> list[ExpectationSpec]:
    import great_expectations.expectations as gxe

    if value is None:
        return []
    if not isinstance(value, list):
        problems.append("`expectations` must be a list of `- ExpectationName: {arguments}`")
        return []
    specs: list[ExpectationSpec] = []
    for index, item in enumerate(value):
        where = f"expectations[{index}]"
        if not isinstance(item, dict) or len(item) != 1:
            problems.append(f"{where}: expected one `ExpectationName: {{arguments}}` pair")
            continue
        ((name, kwargs),) = item.items()
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(kwargs, dict):
            problems.append(f"{where} {name}: arguments must be a mapping")
            continue
        if name in REDIRECTED_EXPECTATIONS:
            problems.append(f"{where} {name}: {REDIRECTED_EXPECTATIONS[name]}")
            continue
        if name in UNSUPPORTED_EXPECTATIONS:
            problems.append(
                f"{where} {name} does not work over ClickHouse here "
                f"({UNSUPPORTED_EXPECTATIONS[name]})"
            )
            continue
        if name not in SUPPORTED_EXPECTATIONS:
            known = isinstance(getattr(gxe, str(name), None), type)
            hint = get_close_matches(str(name), sorted(SUPPORTED_EXPECTATIONS), n=1)
            problems.append(
                f"{where} {name}: "
                + (
                    "not among the expectations proven to work over ClickHouse here "
                    "(see expectations/README.md); write it as an sql_check"
                    if known
                    else "unknown expectation" + (f"; did you mean {hint[0]}?" if hint else "")
                )
            )
            continue
        if "row_condition" in kwargs or "condition_parser" in kwargs:
            problems.append(
                f"{where} {name}: row_condition is not used here; use the suite's `where`"
            )
            continue
        spec = ExpectationSpec(type=str(name), kwargs=_plain(kwargs))
        gx_problems = _check_gx_accepts(spec)
        problems.extend(f"{where} {name}: {problem}" for problem in gx_problems)
        if not gx_problems:
            specs.append(spec)
    return specs


def _parse_sql_checks(value: object, problems: list[str]) -> list[SqlCheck]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append("`sql_checks` must be a list of {name, description, sql}")
        return []
    checks: list[SqlCheck] = []
    names: set[str] = set()
    for index, item in enumerate(value):
        where = f"sql_checks[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping with name, description, sql")
            continue
        name = item.get("name")
        if isinstance(name, str):
            where = f"sql_checks[{index}] {name}"
        unknown = [str(key) for key in item if key not in SQL_CHECK_KEYS + SQL_CHECK_OPTIONAL_KEYS]
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        missing = [key for key in SQL_CHECK_KEYS if not isinstance(item.get(key), str)]
        missing += [key for key in SQL_CHECK_KEYS if key not in missing and not item[key].strip()]
        if missing:
            problems.append(f"{where}: {', '.join(missing)} must be non-empty text")
            continue
        if not IDENTIFIER.match(name):
            problems.append(f"{where}: name must be a snake_case identifier")
        if name in names:
            problems.append(f"{where}: duplicate name")
        names.add(name)
        sql_problem = _check_sql(item["sql"])
        if sql_problem:
            problems.append(f"{where}: {sql_problem}")
            continue
        severity = item.get("severity", "critical")
        if severity not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
            continue
        checks.append(
            SqlCheck(
                name=name,
                description=item["description"].strip(),
                sql=item["sql"],
                severity=severity,
            )
        )
    return checks


def _check_sql(sql: str) -> str | None:
    try:
        fields = {parsed[1] for parsed in string.Formatter().parse(sql) if parsed[1] is not None}
    except ValueError as exc:
        return f"unpaired brace in sql ({exc}); write literal braces as {{{{ and }}}}"
    others = sorted(fields - {"batch"})
    if others:
        return (
            f"unknown placeholder(s) {', '.join('{' + name + '}' for name in others)}: only "
            "{batch} is substituted; write literal braces as {{ and }}"
        )
    if "batch" not in fields:
        return "sql must read the suite's table as {batch}"
    if not JOIN_KEYWORD.search(sql) and BATCH_ALIAS.search(sql):
        return (
            "do not alias {batch} in a query without JOIN: GX names it `subselect` itself "
            "(with a JOIN, alias it yourself)"
        )
    return None


def _check_gx_accepts(spec: ExpectationSpec) -> list[str]:
    """Build the GX expectation: GX's own model checks every argument."""
    from great_expectations.compatibility.pydantic import ValidationError

    try:
        spec.build()
    except ValidationError as exc:
        return _pydantic_messages(exc)
    except (TypeError, ValueError) as exc:
        return [str(exc)]
    return []


def _pydantic_messages(exc: Any) -> list[str]:
    messages: list[str] = []
    seen: set[tuple[Any, ...]] = set()
    errors = exc.errors()
    if any(tuple(error.get("loc", ())) != ("__root__",) for error in errors):
        # A whole-model complaint after a field error is usually its echo.
        errors = [error for error in errors if tuple(error.get("loc", ())) != ("__root__",)]
    for error in errors:
        location = tuple(error.get("loc", ()))
        if location in seen:
            continue  # a union field reports once per member; the first says enough
        seen.add(location)
        name = ".".join(str(part) for part in location if part != "__root__")
        message = error.get("msg", "invalid")
        if error.get("type") == "value_error.extra":
            messages.append(f"unknown argument {name!r}")
        elif error.get("type") == "value_error.missing":
            messages.append(f"missing argument {name!r}")
        else:
            messages.append(f"{name}: {message}" if name else message)
    return messages


def _plain(value: Any) -> Any:
    """YAML values as GX wants them: dates as ISO text, plain dicts and lists."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- running


def run_quality(
    settings: Settings,
    suites: Sequence[Path] | None = None,
    build_docs: bool = True,
    *,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> QualityReport:
    """Validate the suites (default: every file under ``expectations/``) on the warehouse.

    One GX context, one SQL datasource per layer database and one Checkpoint for the
    whole run. A suite whose table is missing fails with a message; the run raises
    :class:`QualityError` (or :class:`SuiteFileError`) only when it cannot judge at all.
    ``on_progress(done, total, suite)`` is called as each suite finishes.
    """
    started = time.perf_counter()
    if suites is None:
        directory = settings.root / SUITES_DIRECTORY
        paths = discover_suite_files(directory)
        if not paths:
            raise QualityError(f"no suite files (*{SUITE_SUFFIX}) under {directory}")
    elif not suites:
        raise QualityError("no suite files given")
    else:
        paths = list(suites)
    loaded = load_suites(paths)
    client = _connect(settings)
    gx_directory = settings.home / GX_DIRECTORY
    _prune_history(gx_directory, HISTORY_DAYS)
    try:
        if any(suite.name == OFFSET_ACCOUNTING_SUITE for suite in loaded):
            refresh_offset_accounting(settings, client)
        existing = _existing_tables(client, sorted({suite.layer for suite in loaded}))
        results = {
            suite.name: SuiteResult(
                suite.name, suite.path, error=f"table {suite.name} does not exist"
            )
            for suite in loaded
            if (suite.layer, suite.table) not in existing
        }
        runnable = [suite for suite in loaded if suite.name not in results]
        context = _create_context(gx_directory, build_docs)
        validation = _validate(context, settings, runnable, len(loaded), on_progress)
        for suite in runnable:
            results[suite.name] = _with_samples(client, suite, validation.results[suite.name])
    finally:
        client.close()
    docs_index = None
    if build_docs:
        # Built once for the run: GX's UpdateDataDocsAction would rebuild the index per suite.
        context.build_data_docs(resource_identifiers=validation.docs_identifiers or None)
        docs_index = gx_directory / "data_docs" / "index.html"
    return QualityReport(
        results=tuple(results[suite.name] for suite in loaded),
        docs_index=docs_index,
        seconds=time.perf_counter() - started,
    )


def refresh_offset_accounting(settings: Settings, client: Client) -> str:
    """Take a fresh snapshot of the accounting by offsets (``ods.offset_accounting``) for its
    suite, when the warehouse was landed from Kafka; a broker that does not answer is a
    failure of the gate, not a pass."""
    from classpulse.kafka.accounting import refresh_snapshot
    from classpulse.kafka.client import KafkaUnavailable

    try:
        return refresh_snapshot(settings, client)
    except KafkaUnavailable as exc:
        raise QualityError(f"the accounting by offsets needs Kafka: {exc}") from None


def _connect(settings: Settings) -> Client:
    from classpulse.warehouse import get_client

    try:
        client = get_client(settings, connect_timeout=5, send_receive_timeout=300)
        client.command("SELECT 1")
    except Exception as exc:  # clickhouse-connect raises several kinds; all mean the same here
        reason = re.search(r"\[Errno -?\d+\] [^\"')]+", str(exc))
        raise QualityError(
            f"cannot reach ClickHouse at {settings.clickhouse_url}: "
            f"{reason.group(0) if reason else _short_error(str(exc))}\n"
            "Is the warehouse running? (`classpulse warehouse status`, `classpulse doctor`)"
        ) from None
    return client


def _existing_tables(client: Client, databases: Sequence[str]) -> set[tuple[str, str]]:
    result = client.query(
        "SELECT database, name FROM system.tables WHERE database IN {databases:Array(String)}",
        parameters={"databases": list(databases)},
    )
    return {(str(database), str(name)) for database, name in result.result_rows}


def _create_context(gx_directory: Path, build_docs: bool) -> AbstractDataContext:
    """An ephemeral GX context whose results and Data Docs live under ``gx_directory``."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = InMemoryStoreBackendDefaults()
    defaults.stores[defaults.validation_results_store_name]["store_backend"] = {
        "class_name": "TupleFilesystemStoreBackend",
        "base_directory": str(gx_directory / "validations"),
    }
    sites = {}
    if build_docs:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(gx_directory / "data_docs"),
            },
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "validation_results_limit": DOCS_INDEX_LIMIT,
            },
        }
    config = DataContextConfig(
        store_backend_defaults=defaults,
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


@cache
def _reporting_checkpoint_class() -> type:
    import great_expectations as gx
    from great_expectations.compatibility.pydantic import PrivateAttr

    class ReportingCheckpoint(gx.Checkpoint):
        """A Checkpoint that says when each validation definition is done.

        GX 1.24 has no public per-validation hook; ``_build_result_key`` is called right
        after each validation definition runs (pinned version; the progress test guards it).
        """

        _on_validated: Callable[[str], None] | None = PrivateAttr(default=None)

        def _build_result_key(self, validation_definition: Any, *args: Any, **kwargs: Any) -> Any:
            if self._on_validated is not None:
                self._on_validated(validation_definition.suite.name)
            return super()._build_result_key(validation_definition, *args, **kwargs)

    return ReportingCheckpoint


@dataclass(frozen=True)
class _Validation:
    results: dict[str, SuiteResult]
    docs_identifiers: list[Any]


def _validate(
    context: AbstractDataContext,
    settings: Settings,
    suites: Sequence[Suite],
    total: int,
    on_progress: Callable[[int, int, str], None] | None,
) -> _Validation:
    """Validate ``suites`` in one Checkpoint; a suite GX cannot reach fails with GX's reason."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )
    from great_expectations.datasource.fluent.interfaces import TestConnectionError

    results: dict[str, SuiteResult] = {}
    if not suites:
        return _Validation(results, [])
    done = total - len(suites)
    # One datasource per layer database: GX 1.24 deprecates a table asset's schema_name.
    datasources = {
        layer: context.data_sources.add_sql(
            name=f"{DATASOURCE_NAME}_{layer}", connection_string=settings.sqlalchemy_url(layer)
        )
        for layer in sorted({suite.layer for suite in suites})
    }
    definitions = []
    for suite in suites:
        datasource = datasources[suite.layer]
        query = suite.batch_query()
        try:
            if query is None:
                asset = datasource.add_table_asset(name=suite.name, table_name=suite.table)
            else:
                asset = datasource.add_query_asset(name=suite.name, query=query)
        except TestConnectionError as exc:  # e.g. a `where` ClickHouse rejects
            error = _short_error(str(exc.__cause__ or exc))
            results[suite.name] = SuiteResult(suite.name, suite.path, error=error)
            done += 1
            continue
        expectation_suite = context.suites.add(
            gx.ExpectationSuite(
                name=suite.name,
                expectations=suite.build_expectations(),
                notes=suite.description or None,
            )
        )
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=suite.name,
                    data=asset.add_batch_definition_whole_table(name="whole_table"),
                    suite=expectation_suite,
                )
            )
        )
    if not definitions:
        return _Validation(results, [])
    checkpoint = _reporting_checkpoint_class()(
        name=CHECKPOINT_NAME,
        validation_definitions=definitions,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 3},
    )
    timings: dict[str, float] = {}
    last = time.perf_counter()

    def record(name: str) -> None:
        nonlocal done, last
        now = time.perf_counter()
        timings[name], last = now - last, now
        done += 1
        if on_progress is not None:
            on_progress(done, total, name)

    checkpoint._on_validated = record
    outcome = checkpoint.run()
    by_name = {suite.name: suite for suite in suites}
    identifiers: list[Any] = []
    for key, validation in outcome.run_results.items():
        name = validation.suite_name
        results[name] = _suite_result(by_name[name], validation, timings.get(name, 0.0))
        identifiers += [key, ExpectationSuiteIdentifier(name=name)]
    return _Validation(results, identifiers)


def _suite_result(
    suite: Suite, validation: ExpectationSuiteValidationResult, seconds: float
) -> SuiteResult:
    outcomes = []
    for item in validation.results:
        meta = item.expectation_config.meta or {}
        outcomes.append(
            Outcome(
                name=str(meta.get("classpulse_label", item.expectation_config.type)),
                success=bool(item.success),
                observed=_describe_observed(item),
                is_sql_check=bool(meta.get("classpulse_sql_check")),
                warning=str(getattr(item.expectation_config, "severity", ""))
                .lower()
                .endswith("warning"),
            )
        )
    order = {spec.label: index for index, spec in enumerate(suite.expectations)}
    order.update({check.name: len(order) + index for index, check in enumerate(suite.sql_checks)})
    outcomes.sort(key=lambda outcome: order.get(outcome.name, len(order)))
    return SuiteResult(suite=suite.name, path=suite.path, outcomes=tuple(outcomes), seconds=seconds)


def _describe_observed(item: ExpectationValidationResult) -> str:
    """A short text of what was seen: an error, unexpected counts with examples, a value."""
    error = _exception_message(item.exception_info or {})
    if error:
        return "error: " + _short_error(error)
    result = item.result or {}
    if "unexpected_count" in result and result.get("unexpected_count") is not None:
        count = result["unexpected_count"]
        total = result.get("element_count")
        text = f"{count:,} unexpected"
        if total:
            text += f" of {total:,} ({100 * count / total:.3g}%)"
        examples = result.get("partial_unexpected_list") or []
        if count and examples:
            text += ", e.g. " + ", ".join(_short_value(value) for value in examples[:3])
        return text
    if item.expectation_config.type == "unexpected_rows_expectation":
        count = result.get("observed_value")
        return f"{count} offending row{'s' if count != 1 else ''}" if count is not None else ""
    if "observed_value" in result:
        return "observed " + _short_value(result["observed_value"])
    details = result.get("details") or {}
    if "value_counts" in details:
        values = [_short_value(entry.get("value")) for entry in details["value_counts"][:5]]
        return "observed values " + ", ".join(values)
    return ""


def _exception_message(info: Mapping[str, Any]) -> str | None:
    if info.get("raised_exception") and info.get("raised_exception") != "False":
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception") not in (
            None,
            False,
            "False",
        ):
            return str(value.get("exception_message"))
    return None


def _with_samples(client: Client, suite: Suite, result: SuiteResult) -> SuiteResult:
    """Add the first offending row of each failed sql_check (best effort: one query each)."""
    checks = {check.name: check for check in suite.sql_checks}
    outcomes = []
    changed = False
    for outcome in result.outcomes:
        check = checks.get(outcome.name) if outcome.is_sql_check else None
        if check is not None and not outcome.success and not outcome.observed.startswith("error"):
            sample = _sample_offending_row(client, suite, check)
            if sample:
                outcome = replace(outcome, observed=f"{outcome.observed}, e.g. {sample}")
                changed = True
        outcomes.append(outcome)
    if not changed:
        return result
    return SuiteResult(result.suite, result.path, tuple(outcomes), result.error, result.seconds)


def _sample_offending_row(client: Client, suite: Suite, check: SqlCheck) -> str | None:
    # The same text GX substitutes for {batch}: a derived table, aliased `subselect`
    # unless the query joins (then the author aliases it).
    inner = suite.batch_query() or f"SELECT * FROM `{suite.layer}`.`{suite.table}` WHERE true"
    batch = f"({inner})" if JOIN_KEYWORD.search(check.sql) else f"({inner}) AS subselect"
    try:
        sql = check.sql.rstrip("; \t\r\n").format(batch=batch)
        result = client.query(f"SELECT * FROM ({sql}) LIMIT 1")
    except Exception:  # the sample is decoration; GX's verdict stands either way
        return None
    if not result.result_rows:
        return None
    row = result.result_rows[0]
    pairs = [
        f"{name}={_short_value(value)}"
        for name, value in zip(result.column_names, row, strict=False)
    ]
    return _truncate(", ".join(pairs), 120)


def _prune_history(gx_directory: Path, keep_days: int) -> None:
    """Delete validation results and Data Docs validation pages older than ``keep_days``."""
    cutoff = time.time() - keep_days * 86_400
    for folder in (gx_directory / "validations", gx_directory / "data_docs" / "validations"):
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if (
                path.is_file()
                and path.suffix in {".json", ".html"}
                and path.stat().st_mtime < cutoff
            ):
                path.unlink(missing_ok=True)
        for path in sorted(folder.rglob("*"), key=lambda item: len(item.parts), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def _short_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dict):
        return "(" + ", ".join(_short_value(item) for item in value.values()) + ")"
    if isinstance(value, float):
        return f"{value:.6g}"
    return _truncate(str(value), 40)


def _short_error(message: str) -> str:
    text = message
    marker = "server response: "
    if marker in text:
        text = text.split(marker, 1)[1]
    text = re.sub(r"^\(clickhouse_connect[^)]*\)\s*", "", text)
    text = re.sub(r"\s*\(version [0-9.]+\).*$", "", _first_line(text))
    return _truncate(text, 160)


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return text.strip()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
