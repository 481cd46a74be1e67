"""Which source topics feed which quality suite: the gate of ``classpulse run --topics``.

A suite checks one table (``expectations/<layer>/<table>.yml``). Its source topics are found by
walking the lineage back: a dbt model to the sources it reads (dbt's manifest), a landing table
to the Flink table its topic carries (``clickhouse/landing``), a Flink table to the jobs that
write it and their inputs (``flink_sql``), down to the tables no job writes: the source topics.
A run over only some topics gates the suites those topics feed, plus every suite with no
source topic at all (the shared accounting tables): an unfed mart is empty by construction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from classpulse.config import Settings


def flink_sources(root: Path) -> dict[str, set[str]]:
    """Kafka topic of every Flink table -> the source topics upstream of it."""
    from classpulse.flink.runner import load_catalog

    catalog = load_catalog(root, "kafka")
    topic_of = {table.name: table.topic for table in catalog.tables if table.topic is not None}
    writers: dict[str, list] = {}
    for job in catalog.jobs:
        for output in job.outputs:
            writers.setdefault(output, []).append(job)
    memo: dict[str, set[str]] = {}

    def upstream(table: str, trail: frozenset[str] = frozenset()) -> set[str]:
        if table in memo:
            return memo[table]
        if table not in writers:
            found = {topic_of.get(table, table)} if table in topic_of else set()
        else:
            found = set()
            for job in writers[table]:
                for source in job.inputs - job.outputs:
                    if source not in trail:
                        found |= upstream(source, trail | {table})
        memo[table] = found
        return found

    return {topic: upstream(name) for name, topic in topic_of.items()}


def landing_sources(root: Path, flink: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Landing table (database.table) -> source topics."""
    from classpulse.loader import read_landing_tables

    return {
        table.table: set(flink.get(table.topic, {table.topic}))
        for table in read_landing_tables(root)
    }


def model_sources(manifest: Mapping, landing: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """dbt model relation (schema.alias) -> source topics, through the sources it reads."""
    nodes = manifest.get("nodes", {})
    sources = manifest.get("sources", {})
    memo: dict[str, set[str]] = {}

    def upstream(unique_id: str) -> set[str]:
        if unique_id in memo:
            return memo[unique_id]
        memo[unique_id] = set()
        if unique_id in sources:
            source = sources[unique_id]
            name = f"{source['schema']}.{source.get('identifier') or source['name']}"
            found = set(landing.get(name, set()))
        else:
            found = set()
            for parent in nodes.get(unique_id, {}).get("depends_on", {}).get("nodes", []):
                found |= upstream(parent)
        memo[unique_id] = found
        return found

    relations = {}
    for unique_id, node in nodes.items():
        if node.get("resource_type") in ("model", "snapshot", "seed"):
            relation = f"{node['schema']}.{node.get('alias') or node['name']}"
            relations[relation] = upstream(unique_id)
    return relations


def table_sources(settings: Settings) -> dict[str, set[str]]:
    """Every known table (database.table) -> its source topics (empty: none, e.g. accounting).

    dbt's manifest comes from the last dbt invocation (``<home>/dbt/target/manifest.json``);
    without one only landing tables are known.
    """
    flink = flink_sources(settings.root)
    landing = landing_sources(settings.root, flink)
    tables = dict(landing)
    manifest_path = settings.home / "dbt" / "target" / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text("utf-8"))
        for relation, topics in model_sources(manifest, landing).items():
            tables.setdefault(relation, topics)
    return tables


def fed_suites(
    settings: Settings, suite_names: Iterable[str], present_topics: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Split suites (``layer.table``) into (gated, skipped): gated when some source topic of
    its table is present, or when its table has no source topic (or no known lineage)."""
    tables = table_sources(settings)
    present = set(present_topics)
    gated, skipped = [], []
    for name in suite_names:
        topics = tables.get(name, set())
        (gated if not topics or topics & present else skipped).append(name)
    return gated, skipped
