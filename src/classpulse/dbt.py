"""Run the dbt project (dbt_project/) against the configured ClickHouse.

dbt runs in-process through ``dbtRunner`` so progress can be reported node by node and
the ~5 s import is paid once per process. The profile (dbt_project/profiles.yml) reads
the ``CLASSPULSE_CLICKHOUSE_*`` variables, so whatever :func:`load_settings` sees, dbt
sees: the settings are exported into the environment before each invocation.

Layers are ClickHouse databases (ods, dwd, dws, ads). ``build_layers`` builds them in
order (rt views before the ads marts that reconcile against them) and, last, the metric roll-up (``tag:metric_rollup``), which collects every metric
file under models/ads/metrics/ into ads.metrics_daily.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from classpulse.config import Settings

LAYERS = ("ods", "dwd", "dws", "rt", "ads")


class DbtError(RuntimeError):
    """dbt failed; the message names the failing nodes and their errors."""


@dataclass
class NodeResult:
    name: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""


@dataclass
class DbtRun:
    command: list[str]
    success: bool
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)

    @property
    def failures(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.status in ("error", "fail", "runtime error")]


def project_dir(settings: Settings) -> Path:
    return settings.root / "dbt_project"


def dbt_environment(settings: Settings) -> dict[str, str]:
    """The variables the profile reads, from ``settings``."""
    return {
        "CLASSPULSE_CLICKHOUSE_HOST": settings.clickhouse_host,
        "CLASSPULSE_CLICKHOUSE_PORT": str(settings.clickhouse_port),
        "CLASSPULSE_CLICKHOUSE_USER": settings.clickhouse_user,
        "CLASSPULSE_CLICKHOUSE_PASSWORD": settings.clickhouse_password,
        "CLASSPULSE_CLICKHOUSE_SECURE": "true" if settings.clickhouse_secure else "false",
        "CLASSPULSE_TIMEZONE": settings.timezone,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(settings.home / "dbt" / "target"),
        "DBT_LOG_PATH": str(settings.home / "dbt" / "logs"),
    }


def run_dbt(
    settings: Settings,
    args: Sequence[str],
    run_date: str | None = None,
    on_node: Callable[[NodeResult], None] | None = None,
    raise_on_failure: bool = True,
    quiet: bool | None = None,
) -> DbtRun:
    """Invoke ``dbt <args>`` in-process; report each finished node to ``on_node``.

    dbt's own console log is silenced (``quiet``, default: when ``on_node`` reports progress);
    everything still goes to var/dbt/logs/dbt.log.
    """
    from dbt.cli.main import dbtRunner

    directory = project_dir(settings)
    quiet = on_node is not None if quiet is None else quiet
    command = [
        *(["--quiet"] if quiet else []),
        *args,
        "--project-dir",
        str(directory),
        "--profiles-dir",
        str(directory),
    ]
    variables: dict[str, object] = {"enter_time_lookback_ms": settings.recorded_course_lookback_ms}
    if run_date:
        variables["run_date"] = run_date
    command += ["--vars", json.dumps(variables)]
    nodes: list[NodeResult] = []

    def on_event(event) -> None:
        if event.info.name != "NodeFinished":
            return
        data = event.data.run_result
        node = NodeResult(
            name=event.data.node_info.node_name,
            resource_type=event.data.node_info.resource_type,
            status=str(data.status),
            seconds=float(data.execution_time or 0.0),
            message=str(data.message or ""),
        )
        nodes.append(node)
        if on_node is not None:
            on_node(node)

    previous = {name: os.environ.get(name) for name in dbt_environment(settings)}
    os.environ.update(dbt_environment(settings))
    started = time.perf_counter()
    try:
        result = dbtRunner(callbacks=[on_event]).invoke(command)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    run = DbtRun(["dbt", *command], bool(result.success), time.perf_counter() - started, nodes)
    if raise_on_failure and not run.success:
        raise DbtError(_failure_message(run, result.exception))
    return run


def _failure_message(run: DbtRun, exception: BaseException | None) -> str:
    lines = [
        f"dbt {' '.join(part for part in run.command[1:4] if not part.startswith('--'))} failed"
    ]
    for node in run.failures[:10]:
        lines.append(
            f"  {node.resource_type} {node.name}: {node.status} — {node.message.strip()[:300]}"
        )
    if exception is not None:
        lines.append(f"  {type(exception).__name__}: {exception}")
    if not run.failures and exception is None:
        lines.append("  see var/dbt/logs/dbt.log")
    return "\n".join(lines)


def build_layers(
    settings: Settings,
    layers: Sequence[str] = LAYERS,
    run_date: str | None = None,
    full_refresh: bool = False,
    on_node: Callable[[NodeResult], None] | None = None,
) -> list[DbtRun]:
    """``dbt build`` layer by layer, then the metric roll-up; stops at the first failure.

    With a ``run_date`` the daily models replace that day's partitions only (a re-run of a
    day gives identical results). Without one, everything is rebuilt from scratch: an
    incremental replace would keep partitions that no longer have any source rows.
    """
    runs = []
    extra = ["--full-refresh"] if full_refresh or not run_date else []
    for layer in layers:
        selection = ["--select", f"tag:{layer}", "--exclude", "tag:metric_rollup"]
        runs.append(run_dbt(settings, ["build", *selection, *extra], run_date, on_node))
    if "ads" in layers:
        runs.append(
            run_dbt(settings, ["build", "--select", "tag:metric_rollup", *extra], run_date, on_node)
        )
    return runs
