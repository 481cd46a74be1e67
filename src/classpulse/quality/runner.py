"""The GX runner: the suites validated in one Checkpoint as SQL on the warehouse, Data Docs kept."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classpulse.config import Settings
from classpulse.quality.errors import QualityError
from classpulse.quality.results import Outcome, QualityReport, SuiteResult
from classpulse.quality.sqlchecks import SqlCheck
from classpulse.quality.suites import (
    SUITE_SUFFIX,
    SUITES_DIRECTORY,
    Suite,
    discover_suite_files,
    load_suites,
)

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.data_context import AbstractDataContext

GX_DIRECTORY = "gx"
DATASOURCE_NAME = "warehouse"
CHECKPOINT_NAME = "classpulse_quality"
HISTORY_DAYS = 30
"""Validation results and their Data Docs pages older than this are deleted after a run."""
OFFSET_ACCOUNTING_SUITE = "ods.offset_accounting"
"""Its table is a snapshot of Kafka's offsets and the warehouse's counts, taken at each run."""
DOCS_INDEX_LIMIT = 500
"""The Data Docs index lists at most this many (newest) validation results."""


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
    batch = f"({inner})" if check.joins else f"({inner}) AS subselect"
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
