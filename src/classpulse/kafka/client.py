"""confluent-kafka client configuration shared by the admin, producer and consumers.

librdkafka logs connection failures to stderr by itself; here its log goes to a Python logger
(``classpulse.kafka.librdkafka``, silent unless configured) and the last error is kept so a
failure can be explained in one sentence.
"""

from __future__ import annotations

import logging
from typing import Any

from classpulse.config import Settings

LOG = logging.getLogger("classpulse.kafka.librdkafka")
LOG.addHandler(logging.NullHandler())
LOG.propagate = False

BOOTSTRAP_VARIABLE = "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS"


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
