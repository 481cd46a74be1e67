"""Configuration from ``CLASSPULSE_*`` environment variables.

Every tool (CLI, Flink runner, loader, dbt profile, Great Expectations, Airflow tasks)
reads its endpoints from :func:`load_settings`. The defaults point at the embedded
warehouse server on 127.0.0.1; setting ``CLASSPULSE_CLICKHOUSE_HOST``/``PORT``/``USER``/
``PASSWORD``/``SECURE`` points everything at a real ClickHouse server instead.

A ``.env`` file at the project root is read too; variables already set in the
environment win over it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from classpulse import business_rules

PREFIX = "CLASSPULSE_"


def project_root() -> Path:
    """The repository root when running from a checkout, else the working directory."""
    candidate = Path(__file__).resolve().parents[2]
    if (candidate / "pyproject.toml").is_file() and (candidate / "flink_sql").is_dir():
        return candidate
    return Path.cwd()


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# name -> (default, description); the single documented list of settings.
# `classpulse doctor` prints it and .env.example mirrors it.
VARIABLES: dict[str, tuple[str, str]] = {
    "HOME": (
        "var",
        "Directory for local state (warehouse data, topics, logs); relative to the project root.",
    ),
    "WAREHOUSE_PATH": (
        "var/warehouse",
        "Data directory of the embedded warehouse server (one server per path).",
    ),
    "WAREHOUSE_BIND": (
        "127.0.0.1",
        "Address the embedded server listens on. Anything but loopback requires passwords.",
    ),
    "WAREHOUSE_TIMEZONE": ("UTC", "Server time zone of the embedded warehouse (timezone())."),
    "WAREHOUSE_USER_FILES": (
        "var/user_files",
        "The one directory the embedded server's file functions (file(), File tables) may "
        "use; relative paths are taken from it. Empty disables file access.",
    ),
    "WAREHOUSE_ALLOWED_ORIGINS": (
        "",
        "Web pages (origins, comma-separated, e.g. http://localhost:3000) allowed to query "
        "the embedded server from a browser; requests from any other page are refused.",
    ),
    "WAREHOUSE_ALLOWED_HOSTS": (
        "",
        "Host names (comma-separated) the embedded server answers to besides loopback "
        "names; on a loopback address other Host headers are refused (DNS rebinding).",
    ),
    "WAREHOUSE_KEEP_ALIVE_TIMEOUT": (
        "30",
        "Seconds an idle keep-alive connection stays open, and the most a client may take "
        "to send a request's headers.",
    ),
    "WAREHOUSE_RECEIVE_TIMEOUT": (
        "30",
        "Seconds the embedded server waits for the next bytes of a request body (or for a "
        "client to take the next bytes of a response) before closing the connection.",
    ),
    "WAREHOUSE_MAX_FORM_SIZE": (
        "268435456",
        "Largest multipart body (external tables), in bytes after decompression.",
    ),
    "CLICKHOUSE_HOST": ("127.0.0.1", "ClickHouse HTTP host every tool connects to."),
    "CLICKHOUSE_PORT": ("8123", "ClickHouse HTTP port (the embedded server listens here too)."),
    "CLICKHOUSE_USER": ("default", "Pipeline (writer) user."),
    "CLICKHOUSE_PASSWORD": (
        "",
        "Pipeline user's password (also the embedded server's `default` password).",
    ),
    "CLICKHOUSE_SECURE": ("false", "Use HTTPS to reach ClickHouse."),
    "ANALYST_USER": ("analyst", "Name of the read-only analyst user."),
    "ANALYST_PASSWORD": ("", "Analyst's password; the analyst user is disabled while it is empty."),
    "ANALYST_DATABASES": (
        "ads,rt",
        "Databases the analyst may read (comma-separated); the first is the analyst's default.",
    ),
    "ANALYST_MAX_MEMORY_USAGE": ("2000000000", "Memory limit of one analyst query, in bytes."),
    "ANALYST_MAX_EXECUTION_TIME": ("300", "Time limit of one analyst query, in seconds."),
    "ANALYST_MAX_RESULT_ROWS": ("1000000", "Most rows one analyst query may return."),
    "TOPICS_DIR": ("var/topics", "Root of the local topic directories (one directory per topic)."),
    "TIMEZONE": ("Asia/Shanghai", "Business time zone for hour and day buckets."),
    "RECORDED_COURSE_LOOKBACK": (
        "",
        "recorded_course_enter_time look-back, 'days hh:mm:ss' (contract: 3 h; empty: the dbt "
        "var enter_time_lookback_ms, its one home); drives both the Flink job and the dbt model.",
    ),
    "ALERT_WEBHOOK": ("", "Optional URL that Airflow failure alerts are POSTed to (JSON)."),
    "KAFKA_BOOTSTRAP_SERVERS": (
        "127.0.0.1:9092",
        "Kafka bootstrap servers. A single loopback host:port is the local broker "
        "(`classpulse kafka start` listens there); anything else is a real cluster.",
    ),
    "KAFKA_PATH": (
        "var/kafka",
        "Directory of the local Kafka broker (data, generated config, pid, log).",
    ),
    "KAFKA_CONTROLLER_PORT": ("9093", "Port of the local broker's KRaft controller (loopback)."),
    "KAFKA_HEAP": ("512m", "Java heap (-Xmx) of the local Kafka broker."),
    "KAFKA_PARTITIONS": (
        "2",
        "Partitions of each topic `classpulse kafka topics --create` and `produce` create.",
    ),
    "KAFKA_RETENTION_HOURS": ("168", "Retention of the topics created here, in hours."),
}

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass(frozen=True)
class Settings:
    root: Path
    home: Path
    warehouse_path: Path
    warehouse_bind: str
    warehouse_timezone: str
    clickhouse_host: str
    clickhouse_port: int
    clickhouse_user: str
    clickhouse_password: str = field(repr=False)
    clickhouse_secure: bool
    analyst_user: str
    analyst_password: str = field(repr=False)
    topics_dir: Path
    timezone: str
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_path: Path = Path("var/kafka")
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    kafka_partitions: int = 2
    kafka_retention_hours: int = 168
    # read from dbt_project.yml when a Settings is made, never at import (DAG files import this)
    recorded_course_lookback: str = field(
        default_factory=business_rules.recorded_course_lookback_interval
    )

    @property
    def recorded_course_lookback_ms(self) -> int:
        """The look-back in milliseconds (what the dbt model needs)."""
        return interval_milliseconds(self.recorded_course_lookback)

    # The embedded server's guards (see README, "Security").
    warehouse_user_files: Path | None = None
    warehouse_allowed_origins: tuple[str, ...] = ()
    warehouse_allowed_hosts: tuple[str, ...] = ()
    warehouse_keep_alive_timeout: float = 30.0
    warehouse_receive_timeout: float = 30.0
    warehouse_max_form_size: int = 268435456
    analyst_databases: tuple[str, ...] = ("ads", "rt")
    analyst_max_memory_usage: int = 2000000000
    analyst_max_execution_time: int = 300
    analyst_max_result_rows: int = 1000000

    @property
    def clickhouse_url(self) -> str:
        scheme = "https" if self.clickhouse_secure else "http"
        return f"{scheme}://{self.clickhouse_host}:{self.clickhouse_port}"

    @property
    def is_embedded(self) -> bool:
        """True when the configured ClickHouse is this machine's embedded server."""
        return (
            self.clickhouse_host in {"127.0.0.1", "localhost", "::1"} and not self.clickhouse_secure
        )

    @property
    def kafka_is_local(self) -> bool:
        """True when the bootstrap servers are one loopback address: the local broker."""
        return local_kafka_port(self.kafka_bootstrap_servers) is not None

    @property
    def kafka_port(self) -> int:
        """The local broker's client port (from the bootstrap servers)."""
        port = local_kafka_port(self.kafka_bootstrap_servers)
        if port is None:
            raise ValueError(
                f"{PREFIX}KAFKA_BOOTSTRAP_SERVERS={self.kafka_bootstrap_servers} is not a local "
                "broker (one loopback host:port, e.g. 127.0.0.1:9092)"
            )
        return port

    def client_kwargs(self, **overrides: object) -> dict[str, object]:
        """Keyword arguments for ``clickhouse_connect.get_client``."""
        kwargs: dict[str, object] = {
            "host": self.clickhouse_host,
            "port": self.clickhouse_port,
            "username": self.clickhouse_user,
            "password": self.clickhouse_password,
            "secure": self.clickhouse_secure,
        }
        kwargs.update(overrides)
        return kwargs

    def sqlalchemy_url(self, database: str = "default") -> str:
        from urllib.parse import quote

        password = quote(self.clickhouse_password, safe="")
        user = quote(self.clickhouse_user, safe="")
        secure = "true" if self.clickhouse_secure else "false"
        return (
            f"clickhousedb://{user}:{password}@{self.clickhouse_host}:{self.clickhouse_port}/"
            f"{database}?secure={secure}"
        )


def local_kafka_port(bootstrap_servers: str) -> int | None:
    """The port of a single loopback ``host:port`` bootstrap address, else None."""
    servers = [server.strip() for server in bootstrap_servers.split(",") if server.strip()]
    if len(servers) != 1:
        return None
    host, _, port = servers[0].rpartition(":")
    if host not in LOOPBACK_HOSTS or not port.isdigit():
        return None
    return int(port)


_INTERVAL = re.compile(r"^\s*(\d+)\s+(\d{1,2}):(\d{2}):(\d{2})\s*$")


def interval_milliseconds(text: str) -> int:
    """A Flink ``DAY TO SECOND`` literal ``'days hh:mm:ss'`` (``0 03:00:00``) in milliseconds."""
    match = _INTERVAL.match(text)
    if match is None:
        raise ValueError(f"expected an interval 'days hh:mm:ss' such as '0 03:00:00', got {text!r}")
    days, hours, minutes, seconds = (int(part) for part in match.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"interval {text!r}: hours, minutes or seconds out of range")
    return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    root = project_root()
    merged = {**_read_dotenv(root / ".env"), **env}

    def get(name: str) -> str:
        return merged.get(PREFIX + name, VARIABLES[name][0])

    def path(name: str) -> Path:
        value = Path(get(name)).expanduser()
        return value if value.is_absolute() else root / value

    def integer(name: str) -> int:
        text = get(name)
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{PREFIX}{name} must be a whole number, got {text!r}") from None

    def number(name: str, kind=int):
        text = get(name)
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{PREFIX}{name} must be a number, got {text!r}") from None
        if value <= 0:
            raise ValueError(f"{PREFIX}{name} must be positive, got {text!r}")
        return value

    def names(name: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in get(name).split(",") if part.strip())

    analyst_databases = names("ANALYST_DATABASES")
    if not analyst_databases:
        raise ValueError(f"{PREFIX}ANALYST_DATABASES must name at least one database")

    port = integer("CLICKHOUSE_PORT")
    lookback = get("RECORDED_COURSE_LOOKBACK") or business_rules.recorded_course_lookback_interval()
    try:
        interval_milliseconds(lookback)
    except ValueError as error:
        raise ValueError(f"{PREFIX}RECORDED_COURSE_LOOKBACK: {error}") from None
    return Settings(
        root=root,
        home=path("HOME"),
        warehouse_path=path("WAREHOUSE_PATH"),
        warehouse_bind=get("WAREHOUSE_BIND"),
        warehouse_timezone=get("WAREHOUSE_TIMEZONE"),
        clickhouse_host=get("CLICKHOUSE_HOST"),
        clickhouse_port=port,
        clickhouse_user=get("CLICKHOUSE_USER"),
        clickhouse_password=get("CLICKHOUSE_PASSWORD"),
        clickhouse_secure=_truthy(get("CLICKHOUSE_SECURE")),
        analyst_user=get("ANALYST_USER"),
        analyst_password=get("ANALYST_PASSWORD"),
        topics_dir=path("TOPICS_DIR"),
        timezone=get("TIMEZONE"),
        kafka_bootstrap_servers=get("KAFKA_BOOTSTRAP_SERVERS").strip() or "127.0.0.1:9092",
        kafka_path=path("KAFKA_PATH"),
        kafka_controller_port=integer("KAFKA_CONTROLLER_PORT"),
        kafka_heap=get("KAFKA_HEAP"),
        kafka_partitions=integer("KAFKA_PARTITIONS"),
        kafka_retention_hours=integer("KAFKA_RETENTION_HOURS"),
        recorded_course_lookback=lookback,
        warehouse_user_files=path("WAREHOUSE_USER_FILES") if get("WAREHOUSE_USER_FILES") else None,
        warehouse_allowed_origins=names("WAREHOUSE_ALLOWED_ORIGINS"),
        warehouse_allowed_hosts=names("WAREHOUSE_ALLOWED_HOSTS"),
        warehouse_keep_alive_timeout=number("WAREHOUSE_KEEP_ALIVE_TIMEOUT", float),
        warehouse_receive_timeout=number("WAREHOUSE_RECEIVE_TIMEOUT", float),
        warehouse_max_form_size=number("WAREHOUSE_MAX_FORM_SIZE"),
        analyst_databases=analyst_databases,
        analyst_max_memory_usage=number("ANALYST_MAX_MEMORY_USAGE"),
        analyst_max_execution_time=number("ANALYST_MAX_EXECUTION_TIME"),
        analyst_max_result_rows=number("ANALYST_MAX_RESULT_ROWS"),
    )


def warehouse_environment(settings: Settings) -> dict[str, str]:
    """The CLASSPULSE_* variables that aim a child process (the warehouse server, dbt, the CLI,
    the pipeline) at ``settings``' warehouse, as :func:`load_settings` reads them back."""
    return {
        f"{PREFIX}WAREHOUSE_PATH": str(settings.warehouse_path),
        f"{PREFIX}WAREHOUSE_BIND": settings.warehouse_bind,
        f"{PREFIX}CLICKHOUSE_HOST": settings.clickhouse_host,
        f"{PREFIX}CLICKHOUSE_PORT": str(settings.clickhouse_port),
        f"{PREFIX}CLICKHOUSE_USER": settings.clickhouse_user,
        f"{PREFIX}CLICKHOUSE_PASSWORD": settings.clickhouse_password,
        f"{PREFIX}CLICKHOUSE_SECURE": "1" if settings.clickhouse_secure else "0",
        f"{PREFIX}ANALYST_PASSWORD": settings.analyst_password,
    }
