"""Suite files: expectations/<layer>/<table>.yml discovered, selected, parsed and checked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classpulse.quality.errors import QualityError, SuiteFileError
from classpulse.quality.expectations import (
    REDIRECTED_EXPECTATIONS,
    SUPPORTED_EXPECTATIONS,
    UNSUPPORTED_EXPECTATIONS,
)
from classpulse.quality.sqlchecks import IDENTIFIER, SqlCheck, parse_sql_checks
from classpulse.warehouse import LAYER_DATABASES

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

SUITES_DIRECTORY = "expectations"
SUITE_SUFFIX = ".yml"

SUITE_KEYS = ("table", "description", "where", "expectations", "sql_checks")


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
    sql_checks = parse_sql_checks(document.get("sql_checks"), problems)
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
