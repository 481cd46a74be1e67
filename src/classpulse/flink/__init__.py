"""The Flink SQL real-time layer: connector DDL per environment, one job per SQL file, a runner.

- ``flink_sql/connectors/<env>/*.sql``: one table per file (sources, cleaned topics, dead letters,
  late events, accounting, marts) with strict ``${VAR}`` placeholders (:mod:`.variables`).
- ``flink_sql/jobs/*.sql``: one job per file, views and INSERTs only (:mod:`.sqlfiles`).
- ``flink_sql/functions.sql``: the Java functions the jobs call (``parse_message`` from
  ``jvm/udf``), on every session's classpath and registered by it (:mod:`.functions`).
- :func:`run_jobs` runs them bounded or continuously in one TableEnvironment (:mod:`.runner`)
  and checks the accounting identities (:mod:`.accounting`).
- :func:`run_flink_benchmark` compares our cleaning with the seed's approach and with chDB.
"""

from classpulse.flink.runner import RunOptions, RunResult, render_environment, run_jobs

__all__ = ["RunOptions", "RunResult", "render_environment", "run_jobs"]
