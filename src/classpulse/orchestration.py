"""What the Airflow DAGs in ``dags/`` share: business time, assets, defaults, alerts, timeouts.

DAG files only wire tasks; each task imports :mod:`classpulse.pipeline` inside its body and
calls one stage. This module is what they need at parse time, and it does no I/O then: no
settings file, database or network is touched until a task runs. The business time zone
for schedules comes from the ``CLASSPULSE_TIMEZONE`` environment variable (default
Asia/Shanghai): set it in the Airflow processes' environment, not only in ``.env``.

Airflow objects (assets, timetables) are built on first access (module ``__getattr__``), so
importing this module does not import Airflow: :func:`run_dag_locally` must point
``AIRFLOW_HOME`` at ``<CLASSPULSE_HOME>/airflow`` before Airflow reads its configuration.

Assets (data, not time, triggers work)
- ``FLINK_OUTPUTS`` ``classpulse://topics/flink-outputs``: the streaming pipeline read new
  messages (realtime_jobs' catch-up) or was submitted to a cluster.
- ``LESSON_CHANGES`` ``classpulse://topics/lesson_change``: change events were landed
  (realtime_jobs); lesson_preheat_changes runs on it (or every 10 minutes).
- ``PREHEAT_PUBLISHED`` ``classpulse://warehouse/dim/preheat``: a preheat run was published
  (lesson_preheat, lesson_preheat_changes); extra: day, run_id, lessons, withheld.
- ``ADS_PUBLISHED`` ``classpulse://warehouse/ads``: an offline day passed the gate and was
  published (offline_rollup); extra: day, fingerprint. data_quality runs on it (or hourly).

Alerts: :func:`alert_failure` is every task's failure callback (in :func:`default_args`): it
logs the alert and, when ``CLASSPULSE_ALERT_WEBHOOK`` is set, POSTs it as JSON (Slack-style
``text`` plus fields). Sending never raises.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.request import Request, urlopen

import pendulum

from classpulse.config import PREFIX, VARIABLES

if TYPE_CHECKING:
    from airflow.sdk import Asset

    from classpulse.config import Settings

    FLINK_OUTPUTS: Asset
    LESSON_CHANGES: Asset
    PREHEAT_PUBLISHED: Asset
    ADS_PUBLISHED: Asset

log = logging.getLogger(__name__)

OWNER = "data-platform"
BUSINESS_TIMEZONE = pendulum.timezone(
    os.environ.get(PREFIX + "TIMEZONE") or VARIABLES["TIMEZONE"][0]
)
START_DATE = pendulum.datetime(2026, 1, 1, tz=BUSINESS_TIMEZONE)
"""First schedulable day of every DAG (none catches up; backfills go further back)."""

ALERT_WEBHOOK_VARIABLE = PREFIX + "ALERT_WEBHOOK"
ALERT_TIMEOUT_SECONDS = 5.0
MIN_SIZED_TIMEOUT = timedelta(seconds=60)
"""Floor of a size-derived timeout: start-up and scheduling jitter are not the work's size."""
DEFAULT_MAX_MAP_LENGTH = 1024

ASSET_URIS: dict[str, tuple[str, str]] = {
    "FLINK_OUTPUTS": ("flink_outputs", "classpulse://topics/flink-outputs"),
    "LESSON_CHANGES": ("lesson_changes", "classpulse://topics/lesson_change"),
    "PREHEAT_PUBLISHED": ("preheat_published", "classpulse://warehouse/dim/preheat"),
    "ADS_PUBLISHED": ("ads_published", "classpulse://warehouse/ads"),
}


# ---------------------------------------------------------------------------------------
# Airflow objects, built on first access


def _build(name: str) -> Any:
    from airflow.sdk import Asset

    asset_name, uri = ASSET_URIS[name]
    return Asset(name=asset_name, uri=uri, group="classpulse")


def _get(name: str) -> Any:
    module = sys.modules[__name__]
    if name not in module.__dict__:
        module.__dict__[name] = _build(name)
    return module.__dict__[name]


def __getattr__(name: str) -> Any:
    if name in ASSET_URIS:
        return _get(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_args(**overrides: Any) -> dict[str, Any]:
    """Every DAG's task defaults: owner, retries, a ceiling timeout and the failure alert."""
    return {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(hours=2),
        "on_failure_callback": alert_failure,
        **overrides,
    }


def dag_arguments(doc: str, tags: Sequence[str], **task_defaults: Any) -> dict[str, Any]:
    """What every DAG is declared with besides its id, schedule and params: the start date,
    no catch-up, one run at a time, the task defaults (:func:`default_args` with
    ``task_defaults``), its documentation and its tags after ``classpulse``."""
    return {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": default_args(**task_defaults),
        "doc_md": doc,
        "tags": ["classpulse", *tags],
    }


# ---------------------------------------------------------------------------------------
# Business days from the run's context


def _moment(context: Mapping[str, Any]) -> datetime:
    """The run's logical date, or when it was due to run (manual runs may have no date)."""
    moment = context.get("logical_date")
    if moment is None:
        moment = context["dag_run"].run_after
    return moment


def _day_param(context: Mapping[str, Any]) -> date | None:
    value = (context.get("params") or {}).get("day")
    return date.fromisoformat(str(value)) if value else None


def preheat_day(context: Mapping[str, Any], timezone: str) -> date:
    """The business day a lesson_preheat run builds: the day its logical date falls on.

    Scheduled runs fire at 00:00 business time for the day starting then; the ``day``
    param overrides.
    """
    return _day_param(context) or pendulum.instance(_moment(context)).in_tz(timezone).date()


def rollup_day(context: Mapping[str, Any], timezone: str) -> date:
    """The business day an offline_rollup run builds: its data interval's day.

    Scheduled runs and backfills cover [D 00:00, D+1 00:00) and build D; a manual run
    covers the last complete day before it was triggered. The ``day`` param overrides.
    """
    explicit = _day_param(context)
    if explicit is not None:
        return explicit
    start = context.get("data_interval_start")
    if start is not None:
        return pendulum.instance(start).in_tz(timezone).date()
    return pendulum.instance(_moment(context)).in_tz(timezone).date() - timedelta(days=1)


def run_label(context: Mapping[str, Any]) -> str:
    """``<dag_id>/<run_id>``: what a publication records as its origin."""
    return f"{context['dag'].dag_id}/{context['run_id']}"


def annotate(context: Mapping[str, Any], asset: Asset, **extra: Any) -> None:
    """Attach ``extra`` to the event this task emits for ``asset`` (one of its outlets)."""
    context["outlet_events"][asset].extra = extra


def skip(reason: str) -> None:
    """End the running task as skipped: it emits no asset event (its outlets stay quiet)."""
    from airflow.sdk.exceptions import AirflowSkipException

    raise AirflowSkipException(reason)


def max_map_length() -> int:
    """``[core] max_map_length``: how many mapped task instances Airflow accepts."""
    from airflow.sdk import conf

    return conf.getint("core", "max_map_length", fallback=DEFAULT_MAX_MAP_LENGTH)


# ---------------------------------------------------------------------------------------
# Timeouts derived from the size of the work


def sized_timeout(students: int, lessons: int) -> timedelta:
    """A task timeout for preheating or checking this many enrollments and lessons.

    :func:`classpulse.preheat.estimate_seconds` is the measured cost times a safety factor;
    :data:`MIN_SIZED_TIMEOUT` is the floor.
    """
    from classpulse.preheat import estimate_seconds

    return max(MIN_SIZED_TIMEOUT, timedelta(seconds=estimate_seconds(students, lessons)))


def timeout_from_size(argument: str) -> Callable[[Mapping[str, Any]], None]:
    """A ``pre_execute`` hook: set the task's timeout from the size in one of its arguments.

    The argument is a planned group (or a list of them) with ``students`` and ``lessons``.
    Airflow reads ``execution_timeout`` after ``pre_execute``, so each mapped instance runs
    under a limit derived from its own batches, known only once the day is planned.
    """

    def set_timeout(context: Mapping[str, Any]) -> None:
        task = context["task"]
        bound = inspect.signature(task.python_callable).bind_partial(
            *task.op_args, **task.op_kwargs
        )
        value = bound.arguments[argument]
        items = value if isinstance(value, list) else [value]
        students = sum(int(item["students"]) for item in items)
        lessons = sum(int(item["lessons"]) for item in items)
        task.execution_timeout = sized_timeout(students, lessons)
        log.info(
            "timeout %.0f s for %d students in %d lessons",
            task.execution_timeout.total_seconds(),
            students,
            lessons,
        )

    return set_timeout


def current_timeout_seconds() -> float | None:
    """The running task's ``execution_timeout`` in seconds (None outside a task or unset)."""
    from airflow.sdk import get_current_context

    timeout = get_current_context()["task"].execution_timeout
    return timeout.total_seconds() if timeout else None


# ---------------------------------------------------------------------------------------
# Alerts


def send_alert(payload: Mapping[str, Any], webhook: str | None = None) -> bool:
    """POST ``payload`` as JSON to the webhook (default: ``CLASSPULSE_ALERT_WEBHOOK``).

    Returns whether it was delivered; never raises (an alert must not fail a task).
    """
    url = webhook or os.environ.get(ALERT_WEBHOOK_VARIABLE)
    if not url:
        return False
    try:
        request = Request(
            url,
            data=json.dumps(payload, default=str).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urlopen(request, timeout=ALERT_TIMEOUT_SECONDS) as response:
            response.read()
        return True
    except Exception as exc:  # noqa: BLE001 - any failure to deliver is only logged
        log.warning("alert webhook %s failed: %s", url.split("?")[0], exc)
        return False


def failure_alert(context: Mapping[str, Any]) -> dict[str, Any]:
    """The alert for a failed task: who failed, which try, why, where the log is."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    exception = context.get("exception")
    reason = f"{type(exception).__name__}: {exception}" if exception else "unknown"
    label = f"{dag_id}.{task_id}" + (f"[{map_index}]" if map_index not in (None, -1) else "")
    try_number = getattr(ti, "try_number", None)
    try:
        log_url = getattr(ti, "log_url", None)
    except Exception:  # noqa: BLE001 - the URL is a convenience
        log_url = None
    return {
        "text": f"[ClassPulse] {label} failed (try {try_number}): {reason}"[:2000],
        "level": "error",
        "dag_id": dag_id,
        "task_id": task_id,
        "map_index": map_index,
        "run_id": context.get("run_id"),
        "logical_date": str(context.get("logical_date")),
        "try_number": try_number,
        "max_tries": getattr(getattr(ti, "task", None), "retries", None),
        "exception": reason[:4000],
        "log_url": log_url,
    }


def alert_failure(context: Mapping[str, Any]) -> None:
    """Failure callback: log the alert, and POST it when a webhook is configured."""
    try:
        alert = failure_alert(context)
        log.error("ALERT %s", alert["text"])
        send_alert(alert)
    except Exception:  # noqa: BLE001 - a callback must never raise
        log.exception("could not build or send the failure alert")


def warn(text: str, **details: Any) -> None:
    """A warning that needs a human but fails nothing (e.g. lessons withheld): log and POST."""
    log.warning("ALERT %s", text)
    send_alert({"text": f"[ClassPulse] {text}"[:2000], "level": "warning", **details})


# ---------------------------------------------------------------------------------------
# Running a DAG here with dag.test() (make demo, tests)


@dataclass(frozen=True)
class TaskOutcome:
    """How one task instance of a local run ended."""

    task_id: str
    map_index: int
    state: str
    seconds: float | None


@dataclass
class LocalRun:
    """The result of :func:`run_dag_locally`."""

    dag_id: str
    run_id: str
    state: str
    logical_date: datetime | None
    data_interval: tuple[datetime | None, datetime | None]
    seconds: float
    tasks: list[TaskOutcome] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.state == "success"

    def states(self) -> dict[str, list[str]]:
        """Task id -> the states of its instances (one per map index)."""
        states: dict[str, list[str]] = {}
        for task in sorted(self.tasks, key=lambda item: (item.task_id, item.map_index)):
            states.setdefault(task.task_id, []).append(task.state)
        return states


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The Airflow configuration of local runs and ``make airflow``: home under var/."""
    return {
        "AIRFLOW_HOME": str(settings.home / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.root / "dags"),
    }


def _use_airflow_home(environment: Mapping[str, str]) -> None:
    if "airflow" in sys.modules:
        from airflow import configuration

        configured = Path(configuration.AIRFLOW_HOME).resolve()
        if configured != Path(environment["AIRFLOW_HOME"]).resolve():
            raise RuntimeError(
                f"Airflow was already imported with AIRFLOW_HOME={configured}; local runs use "
                f"{environment['AIRFLOW_HOME']}: call run_dag_locally before importing Airflow"
            )
    os.environ.update(environment)
    Path(environment["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)


def migrate_metadata_db(airflow_home: Path) -> bool:
    """Create or upgrade the SQLite metadata DB once per Airflow version; True if it ran."""
    import airflow
    from airflow.utils.db import upgradedb

    marker = airflow_home / f".migrated-{airflow.__version__}"
    if marker.is_file() and (airflow_home / "airflow.db").is_file():
        return False
    upgradedb()
    airflow_home.mkdir(parents=True, exist_ok=True)
    marker.write_text(datetime.now().isoformat())
    return True


class _TaskProgress:
    """An Airflow listener that reports each finished task instance of a local run."""

    def __init__(self, callback: Callable[[TaskOutcome], None]) -> None:
        self.callback = callback

    def _report(self, task_instance: Any, state: str) -> None:
        started = getattr(task_instance, "start_date", None)
        seconds = (pendulum.now("UTC") - started).total_seconds() if started else None
        outcome = TaskOutcome(
            task_instance.task_id, int(getattr(task_instance, "map_index", -1)), state, seconds
        )
        try:
            self.callback(outcome)
        except Exception:  # noqa: BLE001 - progress display must not fail a task
            log.exception("progress callback failed")


def _listener(callback: Callable[[TaskOutcome], None]) -> Any:
    from airflow.listeners import hookimpl

    class Listener(_TaskProgress):
        @hookimpl
        def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
            self._report(task_instance, "success")

        @hookimpl
        def on_task_instance_failed(
            self, previous_state: Any, task_instance: Any, error: Any
        ) -> None:
            self._report(task_instance, "failed")

        @hookimpl
        def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
            self._report(task_instance, "skipped")

    return Listener(callback)


def _as_logical_date(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return pendulum.instance(value, tz=BUSINESS_TIMEZONE) if value else None
    return pendulum.datetime(value.year, value.month, value.day, tz=BUSINESS_TIMEZONE)


def run_dag_locally(
    dag_id: str,
    logical_date: date | datetime | None = None,
    conf: Mapping[str, Any] | None = None,
    on_task: Callable[[TaskOutcome], None] | None = None,
    retries: int | None = 0,
    settings: Settings | None = None,
) -> LocalRun:
    """Run one DAG of ``dags/`` in this process with ``dag.test()``: the code Airflow runs.

    ``AIRFLOW_HOME`` is ``<CLASSPULSE_HOME>/airflow`` (SQLite metadata DB, migrated on first
    use; examples off); call this before anything imports Airflow. A ``date`` logical date
    means 00:00 business time; it is a manual run, so for offline_rollup it builds the day
    before (see :func:`rollup_day`; ``conf={"day": ...}`` names the day instead).
    ``on_task`` is called as each task instance finishes. Retries are off unless
    ``retries`` says otherwise: a local run should fail fast, not wait for a retry delay.
    """
    from classpulse.config import load_settings

    settings = settings or load_settings()
    environment = airflow_environment(settings)
    _use_airflow_home(environment)
    started = time.perf_counter()
    migrate_metadata_db(Path(environment["AIRFLOW_HOME"]))
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.listener import get_listener_manager

    path = Path(environment["AIRFLOW__CORE__DAGS_FOLDER"]) / f"{dag_id}.py"
    bag = DagBag(dag_folder=str(path))
    if bag.import_errors:
        raise RuntimeError(f"cannot import {path}:\n" + "\n".join(bag.import_errors.values()))
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise RuntimeError(f"{path} defines no DAG {dag_id!r}")
    if retries is not None:
        for task in dag.tasks:
            task.retries = retries
    listener = _listener(on_task) if on_task is not None else None
    manager = get_listener_manager()
    if listener is not None:
        manager.add_listener(listener)
    try:
        run = dag.test(logical_date=_as_logical_date(logical_date), run_conf=dict(conf or {}))
    finally:
        if listener is not None:
            manager.pm.unregister(listener)
    outcomes = [
        TaskOutcome(
            ti.task_id,
            int(ti.map_index),
            str(ti.state.value if hasattr(ti.state, "value") else ti.state),
            float(ti.duration) if ti.duration is not None else None,
        )
        for ti in run.get_task_instances()
    ]
    state = run.state.value if hasattr(run.state, "value") else str(run.state)
    return LocalRun(
        dag_id=dag_id,
        run_id=run.run_id,
        state=str(state),
        logical_date=run.logical_date,
        data_interval=(run.data_interval_start, run.data_interval_end),
        seconds=time.perf_counter() - started,
        tasks=outcomes,
    )


def task_results(run: LocalRun, task_id: str) -> list[Any]:
    """The return values (XComs) of a local run's task, one per map index, in index order."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(XComModel)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id, key="return_value")
            .order_by(XComModel.map_index)
            .all()
        )
        return [XComModel.deserialize_value(row) for row in rows]


def describe(run: LocalRun, widths: Sequence[int] = (36, 10)) -> str:
    """A plain-text table of a local run's task instances."""
    lines = [f"{run.dag_id} {run.run_id}: {run.state} in {run.seconds:.1f} s"]
    for task in sorted(run.tasks, key=lambda item: (item.task_id, item.map_index)):
        label = task.task_id + (f"[{task.map_index}]" if task.map_index >= 0 else "")
        seconds = f"{task.seconds:.1f} s" if task.seconds is not None else ""
        lines.append(f"  {label:<{widths[0]}} {task.state:<{widths[1]}} {seconds}")
    return "\n".join(lines)
