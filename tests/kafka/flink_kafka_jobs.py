"""Run Flink SQL over Kafka in a PyFlink mini-cluster of its own (a subprocess of the test).

Usage: python flink_kafka_jobs.py SPEC_JSON  — prints one JSON line of results on stdout.

Run apart from the Flink tests' shared session (tests/flink), in a JVM of its own: the smoke
test of the connector owns its checkpoint settings and its raw source and sink tables.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from classpulse.flink.session import FlinkSession, SessionOptions


def main(spec: dict) -> dict:
    bootstrap = spec["bootstrap"]
    session = FlinkSession(
        SessionOptions(
            parallelism=2,
            checkpoint_dir=Path(spec["checkpoints"]),
            checkpoint_interval="500 ms",
            jars=(spec["jar"],),
        )
    )
    env = session.table_env
    common = f"'properties.bootstrap.servers' = '{bootstrap}'"
    env.execute_sql(
        f"""CREATE TABLE source_lines (line STRING) WITH (
            'connector' = 'kafka', 'topic' = '{spec["source"]}', {common},
            'scan.startup.mode' = 'earliest-offset',
            'scan.bounded.mode' = 'latest-offset',
            'value.format' = 'raw')"""
    )
    # Flink's Kafka source reads read_uncommitted unless told (the Kafka client's default): a
    # reader of a transactional topic must ask for read_committed or it sees aborted records
    env.execute_sql(
        f"""CREATE TABLE source_transactional (line STRING) WITH (
            'connector' = 'kafka', 'topic' = '{spec["transactional"]}', {common},
            'properties.isolation.level' = 'read_committed',
            'scan.startup.mode' = 'earliest-offset',
            'scan.bounded.mode' = 'latest-offset',
            'value.format' = 'raw')"""
    )
    # exactly once: transactions committed on checkpoints; no transaction.timeout.ms here, so
    # the broker must accept Flink's default of 1 h (transaction.max.timeout.ms)
    exactly_once = (
        "'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = '{prefix}'"
    )
    for name, topic in (("sink_lines", spec["lines"]), ("sink_committed", spec["committed"])):
        env.execute_sql(
            f"""CREATE TABLE {name} (line STRING) WITH (
                'connector' = 'kafka', 'topic' = '{topic}', {common},
                'value.format' = 'raw',
                {exactly_once.format(prefix=spec["prefix"] + "-" + name)})"""
        )
    for name, topic in (("sink_counts", spec["counts"]), ("sink_latest", spec["latest"])):
        env.execute_sql(
            f"""CREATE TABLE {name} (k INT, v BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH (
                'connector' = 'upsert-kafka', 'topic' = '{topic}', {common},
                'key.format' = 'json', 'value.format' = 'json',
                {exactly_once.format(prefix=spec["prefix"] + "-" + name)})"""
        )
    env.execute_sql(
        """CREATE TEMPORARY VIEW parsed AS
           SELECT CAST(JSON_VALUE(line, '$.k') AS INT) AS k,
                  CAST(JSON_VALUE(line, '$.n') AS BIGINT) AS n
           FROM source_lines"""
    )
    result: dict = {}
    # Flink 2.3: an upsert sink whose primary key is not the query's upsert key needs ON CONFLICT
    try:
        env.explain_sql("INSERT INTO sink_latest SELECT k, n FROM parsed")
        result["without_on_conflict"] = "planned"
    except Exception as exc:  # py4j wraps the planner's ValidationException
        result["without_on_conflict"] = str(exc)
    statements = env.create_statement_set()
    statements.add_insert_sql("INSERT INTO sink_lines SELECT line FROM source_lines")
    statements.add_insert_sql("INSERT INTO sink_committed SELECT line FROM source_transactional")
    statements.add_insert_sql("INSERT INTO sink_counts SELECT k, COUNT(*) FROM parsed GROUP BY k")
    statements.add_insert_sql(
        "INSERT INTO sink_latest SELECT k, n FROM parsed ON CONFLICT DO DEDUPLICATE"
    )
    statements.execute().wait()
    result["finished"] = True
    return result


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
