"""The topics the pipeline's jobs read and write, found in the connector DDL, and their creation."""

from __future__ import annotations

from classpulse.config import Settings, load_settings


def pipeline_topics(settings: Settings | None = None) -> tuple[list[str], list[str], list[str]]:
    """(source topics, intermediate topics, output-only topics) of the Kafka connector set."""
    from classpulse.flink.runner import load_catalog

    settings = settings or load_settings()
    catalog = load_catalog(settings.root, "kafka")
    inputs = set().union(*(job.inputs for job in catalog.jobs))
    outputs = set().union(*(job.outputs for job in catalog.jobs))
    # a table without a topic is no topic (the dim_* warehouse lookups)
    topics = {table.name: table.topic for table in catalog.tables if table.topic is not None}

    def names(tables: set[str]) -> list[str]:
        return sorted(topics[name] for name in tables if name in topics)

    return names(inputs - outputs), names(inputs & outputs), names(outputs - inputs)


def create_topics(settings: Settings) -> list[str]:
    """Create every topic the pipeline reads or writes (missing ones only)."""
    from classpulse.kafka.admin import create_topics as create

    sources, middle, outputs = pipeline_topics(settings)
    names = [*sources, *middle, *outputs]
    create(settings, names)
    return names
