"""The Flink SQL real-time layer: Kafka connector DDL, one job per SQL file, a runner.

- ``flink_sql/tables/*.sql``: one table per file, its columns, watermark and role (sources,
  cleaned topics, dead letters, late events, accounting, marts); ``flink_sql/connectors/<env>.yaml``
  the WITH options of each role (:mod:`.connectors`), strict ``${VAR}`` placeholders
  (:mod:`.variables`).
- ``flink_sql/jobs/*.sql``: one job per file, views and INSERTs only (:mod:`.sqlfiles`), split
  on sqlfluff's lexer (:mod:`.sqltokens`) and read by Flink's own parser (:mod:`.sqlparser`).
- ``flink_sql/functions.sql``: the Java functions the jobs call (``parse_message`` from
  ``jvm/udf``), on every session's classpath and registered by it (:mod:`.functions`).
- :func:`run_jobs` runs them bounded or continuously in one TableEnvironment (:mod:`.runner`);
  :mod:`.pipeline` is the streaming pipeline's entry point (start, stop, lag, run_bounded).
- :mod:`.accounting` checks the accounting identities over a run's output rows.
"""

from classpulse.flink.runner import RunOptions, RunResult, render_environment, run_jobs

__all__ = ["RunOptions", "RunResult", "render_environment", "run_jobs"]
