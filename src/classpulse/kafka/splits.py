"""The name of a Kafka source split: ``<topic>/<partition>``, defined once.

The Flink source tables compute it (``source_split``, a column generated from the table's topic
by :mod:`classpulse.flink.connectors`), every cleaned row and counter carries it, and the offset
accounting rebuilds it from the partitions Kafka reports.
"""

from __future__ import annotations


def split_name(topic: str, partition: int) -> str:
    """The split of one partition of a topic, as the Flink sources name it."""
    return f"{topic}/{partition}"


def split_expression(topic: str, partition_column: str = "kafka_partition") -> str:
    """The Flink SQL expression of :func:`split_name` over a table's partition column."""
    literal = (topic + "/").replace("'", "''")
    return f"CONCAT('{literal}', CAST({partition_column} AS STRING))"
