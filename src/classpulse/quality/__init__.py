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

Great Expectations is imported lazily: importing this package costs nothing (Airflow DAGs
and the CLI import it at parse time).

Modules: :mod:`.suites` (suite files), :mod:`.sqlchecks` (a suite's sql_checks),
:mod:`.expectations` (what runs on ClickHouse), :mod:`.runner` (the GX run, Data Docs),
:mod:`.results` (outcomes and the report), :mod:`.errors`. The CLI renders a report in
:mod:`classpulse.commands.quality`.
"""

from classpulse.quality.errors import QualityError, SuiteFileError
from classpulse.quality.expectations import SUPPORTED_EXPECTATIONS, UNSUPPORTED_EXPECTATIONS
from classpulse.quality.results import QualityReport, SuiteResult
from classpulse.quality.runner import run_quality
from classpulse.quality.suites import (
    SUITES_DIRECTORY,
    check_suite_files,
    discover_suite_files,
    load_suite,
    load_suites,
    select_suite_files,
)

__all__ = [
    "QualityError",
    "QualityReport",
    "SUITES_DIRECTORY",
    "SUPPORTED_EXPECTATIONS",
    "SuiteFileError",
    "SuiteResult",
    "UNSUPPORTED_EXPECTATIONS",
    "check_suite_files",
    "discover_suite_files",
    "load_suite",
    "load_suites",
    "run_quality",
    "select_suite_files",
]
