"""confluent-kafka client configuration shared by the admin, producer and consumers.

librdkafka logs connection failures to stderr by itself; here its log goes to a Python logger
(``classpulse.kafka.librdkafka``, silent unless configured) and the last error is kept so a
failure can be explained in one sentence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from classpulse.config import Settings

LOG = logging.getLogger("classpulse.kafka.librdkafka")
LOG.addHandler(logging.NullHandler())
LOG.propagate = False

BOOTSTRAP_VARIABLE = "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS"

T = TypeVar("T")


class KafkaUnavailable(RuntimeError):
    """The configured brokers do not answer, with what to do about it."""


class ErrorRecorder:
    """``error_cb`` for a client: remembers the last client-level error."""

    def __init__(self) -> None:
        self.last: Any = None

    def __call__(self, error: Any) -> None:
        self.last = error


def client_config(bootstrap_servers: str, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "logger": LOG,
        # loopback brokers answer at once; do not wait seconds between reconnects
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 1000,
    }
    config.update(extra)
    return config


def unavailable(settings: Settings, detail: object = None) -> KafkaUnavailable:
    hint = (
        "start the local broker with `classpulse kafka start`"
        if settings.kafka_is_local
        else f"check {BOOTSTRAP_VARIABLE} and that the cluster is reachable"
    )
    reason = f" ({detail})" if detail else ""
    return KafkaUnavailable(
        f"Kafka at {settings.kafka_bootstrap_servers} does not answer{reason}; {hint}"
    )


def transient(exc: BaseException) -> bool:
    """Whether a client call failed for a reason that passes by itself on a healthy cluster.

    Besides what librdkafka flags as retriable, this covers the moments after a topic is
    created (its partitions have no leader yet) and after a broker starts (the group
    coordinator is still loading ``__consumer_offsets``): librdkafka does not flag these as
    retriable in admin and ``committed()`` results.
    """
    from confluent_kafka import KafkaError

    error = exc.args[0] if exc.args else None
    if not isinstance(error, KafkaError):
        return False
    passing = {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
    }
    return error.retriable() or error.code() in passing


def retrying(call: Callable[[], T], timeout: float, pause: float = 0.2) -> T:
    """``call()``, again while it fails for a :func:`transient` reason, for up to ``timeout``
    seconds; then its last error."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except Exception as exc:
            if not transient(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
