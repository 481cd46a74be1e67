"""One PyFlink TableEnvironment (one JVM, one local mini-cluster) for every job of a run.

Start-up (~4-8 s for the JVM and the planner) is paid once per process: tests share a session
through a fixture, the runner runs its stages in it one after the other. Connector tables are
registered as permanent tables of the in-memory catalog so the runner can ``ALTER TABLE ... SET``
their options (a bounded run's ``scan.bounded.mode``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from classpulse.flink.functions import register_functions, udf_jar
from classpulse.flink.progress import COUNTS_INTERVAL_S
from classpulse.flink.sqlfiles import ConnectorTable
from classpulse.flink.sqlparser import read_statement
from classpulse.flink.variables import Variables, render


@dataclass(frozen=True)
class SessionOptions:
    """Engine settings that are not SQL: parallelism, time zone, checkpoints, mini-batch."""

    parallelism: int = 2
    timezone: str = "Asia/Shanghai"
    checkpoint_dir: Path | None = None
    checkpoint_interval: str = "1 s"
    mini_batch_latency: str = "1 s"
    mini_batch_size: int = 5000
    extra: Mapping[str, str] = field(default_factory=dict)
    # A Flink cluster to submit to (host:port of its REST endpoint) instead of the local
    # mini-cluster, and connector jars the planner needs (e.g. Kafka's; not in the PyFlink wheel).
    # The jar of our Java functions (jvm/udf, see functions.py) is always added.
    jobmanager: str | None = None
    jars: tuple[str, ...] = ()


def free_port() -> int:
    """A TCP port that was free a moment ago, for the mini-cluster's REST endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FlinkSession:
    """A streaming TableEnvironment plus what the runner registered in it."""

    def __init__(self, options: SessionOptions | None = None) -> None:
        from classpulse.java import ensure_java_home

        ensure_java_home()
        from pyflink.common import Configuration
        from pyflink.table import EnvironmentSettings, TableEnvironment

        self.options = options or SessionOptions()
        startup = Configuration()
        if self.options.jobmanager:
            host, _, port = self.options.jobmanager.rpartition(":")
            self.rest_host, self.rest_port = host, int(port)
            startup.set_string("execution.target", "remote")
            startup.set_string("rest.address", host)
            startup.set_string("rest.port", port)
        else:
            # the mini-cluster's REST endpoint serves the progress display (records read)
            self.rest_host, self.rest_port = "127.0.0.1", free_port()
            startup.set_string("rest.bind-address", "127.0.0.1")
            startup.set_string("rest.bind-port", str(self.rest_port))
            # Metrics are gathered when a REST request asks for them, at most once per interval
            # (Flink's default 10 s would freeze the display): half the display's read interval
            # (progress.py: a gathering started just before each read, none by the read itself)
            fetch_ms = round(COUNTS_INTERVAL_S * 1000 / 2)
            startup.set_string("metrics.fetcher.update-interval", f"{fetch_ms} ms")
            # The mini-cluster's job and task managers live in this one JVM: a missed heartbeat
            # only means the JVM got no CPU for a while (a shared 2-core machine under load),
            # and with no restart strategy it would fail the whole pipeline (seen in a bench).
            startup.set_string("heartbeat.timeout", "300 s")
            # likewise the local RPCs (a job's submission timed out after the default 10 s)
            startup.set_string("pekko.ask.timeout", "120 s")
        # our functions' jar always travels with the jobs (mini-cluster or remote cluster)
        jars = (udf_jar().as_uri(), *self.options.jars)
        startup.set_string("pipeline.jars", ";".join(jars))
        settings = (
            EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(startup)
        )
        self.table_env: Any = TableEnvironment.create(settings.build())
        self.tables: list[str] = []
        self.views: list[str] = []
        self.configure(self.options)
        register_functions(self.table_env)

    def configure(self, options: SessionOptions) -> None:
        """Apply engine settings; they take effect for the next job submitted.

        Where jobs run (``jobmanager``, ``jars``) is fixed when the session starts.
        """
        options = replace(options, jobmanager=self.options.jobmanager, jars=self.options.jars)
        self.options = options
        config = self.table_env.get_config()
        values = {
            "parallelism.default": str(options.parallelism),
            "table.local-time-zone": options.timezone,
            # records are not mutated between chained operators: skip the defensive copies
            "pipeline.object-reuse": "true",
            # aggregations fold their input per second (or per 5000 rows) and pre-aggregate
            # before the shuffle (local-global), instead of one state access per record
            "table.exec.mini-batch.enabled": "true",
            "table.exec.mini-batch.allow-latency": options.mini_batch_latency,
            "table.exec.mini-batch.size": str(options.mini_batch_size),
            "table.optimizer.agg-phase-strategy": "TWO_PHASE",
            # Kafka sinks commit on checkpoints; a bounded job ends with a final checkpoint
            "execution.checkpointing.interval": options.checkpoint_interval,
            "execution.checkpointing.mode": "EXACTLY_ONCE",
            # Barriers overtake the records in flight (which go into the checkpoint) instead of
            # queueing behind them and waiting at every multi-input task for the slowest input:
            # a checkpoint's end is when a transaction commits, i.e. when a clean record reaches
            # the marts and a mart row the warehouse (issue 10: a paced run's checkpoints spent
            # 2.2 s of 4 s in barrier start delay and 0.8 s in alignment). Savepoints stay aligned.
            "execution.checkpointing.unaligned.enabled": "true",
            # ...but a checkpoint starts aligned and turns unaligned only after 1 s without
            # alignment: always-unaligned checkpoints also store the in-flight buffers, which
            # made the room pipeline's checkpoints 764 B per online user instead of 632 B and
            # left one paced minute 21.5 s from closable to queryable (3.1-3.3 s aligned; with
            # this timeout 2.6-4.0 s, 632 B; quiet machine, one run each).
            "execution.checkpointing.aligned-checkpoint-timeout": "1 s",
        }
        if not options.jobmanager:
            # local runs fail fast; a cluster keeps its own restart strategy, state backend and
            # checkpoint storage
            values["restart-strategy.type"] = "none"
            if options.checkpoint_dir is not None:
                values["execution.checkpointing.dir"] = options.checkpoint_dir.resolve().as_uri()
        values.update(options.extra)
        for key, value in values.items():
            config.set(key, value)

    def register_tables(
        self, tables: Iterable[ConnectorTable], variables: Variables
    ) -> dict[str, str]:
        """(Re)create every connector table from its rendered DDL; returns name -> DDL."""
        rendered = {table.name: render(table.ddl, variables, str(table.path)) for table in tables}
        for name, ddl in rendered.items():
            self.table_env.execute_sql(f"DROP TABLE IF EXISTS `{name}`")
            self.table_env.execute_sql(ddl)
        self.tables = list(rendered)
        return rendered

    def set_table_options(self, table: str, options: Mapping[str, str]) -> None:
        """``ALTER TABLE t SET (...)``: change connector options of a registered table."""
        if not options:
            return
        pairs = ", ".join(f"'{key}' = '{value}'" for key, value in options.items())
        self.table_env.execute_sql(f"ALTER TABLE `{table}` SET ({pairs})")

    def create_view(self, name: str, statement: str) -> None:
        """Register ``CREATE TEMPORARY VIEW name AS <query>`` through the Table API.

        A view registered from a Table object is one node of the plan however many INSERTs read
        it, so the planner optimises it once and every sink shares its operators. The same view
        as SQL DDL is expanded per INSERT, and the copies (their correlation ids differ) are
        not recognised as the same: the parse would run once per sink.
        """
        view = read_statement(statement)
        if view.kind != "create view" or not view.temporary or view.name != name:
            raise ValueError(f"not a CREATE TEMPORARY VIEW {name} AS <query>: {statement[:80]!r}")
        if view.query_span is None:
            raise ValueError(f"{name}: Flink's parser found no query in {statement[:80]!r}")
        query = statement[view.query_span[0] : view.query_span[1]]
        self.table_env.execute_sql(f"DROP TEMPORARY VIEW IF EXISTS `{name}`")
        self.table_env.create_temporary_view(name, self.table_env.sql_query(query))
        self.views.append(name)

    def drop_views(self) -> None:
        for name in reversed(self.views):
            self.table_env.execute_sql(f"DROP TEMPORARY VIEW IF EXISTS `{name}`")
        self.views = []

    def bind_planner_to_this_thread(self) -> bool:
        """Give the Java thread serving the next py4j call the planner's metadata provider.

        Calcite keeps it in a thread-local set on the thread that created the planner; py4j
        serves a Python thread's calls on whichever connection (Java thread) is free, and after
        a switch (a finaliser's call in the middle of another) the optimizer failed with
        ``NullPointerException: metadataHandlerProvider``. Called right before ``execute()``,
        so both run on one connection. Best effort: False when the planner's classes differ.
        """
        try:
            from pyflink.java_gateway import get_gateway

            gateway = get_gateway()
            loader = self.table_env._j_tenv.getPlanner().getClass().getClassLoader()
            load = gateway.jvm.java.lang.Class.forName
            metadata = "org.apache.calcite.rel.metadata."
            flink = load(
                "org.apache.flink.table.planner.plan.metadata.FlinkDefaultRelMetadataProvider",
                True,
                loader,
            )
            no_classes = gateway.new_array(gateway.jvm.java.lang.Class, 0)
            no_values = gateway.new_array(gateway.jvm.java.lang.Object, 0)
            instance = flink.getMethod("INSTANCE", no_classes).invoke(None, no_values)
            kinds = gateway.new_array(gateway.jvm.java.lang.Class, 1)
            kinds[0] = load(metadata + "RelMetadataProvider", True, loader)
            values = gateway.new_array(gateway.jvm.java.lang.Object, 1)
            values[0] = instance
            janino = load(metadata + "JaninoRelMetadataProvider", True, loader)
            provider = janino.getMethod("of", kinds).invoke(None, values)
            base = load(metadata + "RelMetadataQueryBase", True, loader)
            base.getField("THREAD_PROVIDERS").get(None).set(provider)
            return True
        except Exception:  # noqa: BLE001 - an optimisation of robustness, never a failure
            return False

    def statement_set(self, inserts: Iterable[str], one_sink_per_table: bool = True) -> Any:
        """A statement set of ``inserts``; with ``one_sink_per_table``, the INSERTs into one
        table become one sink (``UNION ALL`` of their queries, each cast to the table's columns
        as an INSERT casts it).

        Every INSERT is a sink of its own, and an exactly-once Kafka sink is a transactional
        producer per subtask, its transaction committed on every checkpoint: the fourteen
        cleaning jobs' INSERTs into rejected_messages and topic_accounting alone were 56
        producers and 56 commits per checkpoint. Merged, each shared table is one sink written
        under the connector's own transactional-id prefix. Which table an INSERT writes, and
        its query, come from Flink's own parser (a ``SinkModifyOperation``).
        """
        statements = self.table_env.create_statement_set()
        inserts = list(inserts)
        if not one_sink_per_table:
            for statement in inserts:
                statements.add_insert_sql(statement)
            return statements
        parser = self.table_env._j_tenv.getParser()
        by_table: dict[str, list[tuple[str, Any]]] = {}
        for statement in inserts:
            operations = parser.parse(statement)
            operation = operations.get(0) if operations.size() == 1 else None
            if operation is None or operation.getClass().getSimpleName() != "SinkModifyOperation":
                raise ValueError(f"not one INSERT INTO a table: {statement[:80]!r}")
            target = operation.getContextResolvedTable().getIdentifier().asSerializableString()
            by_table.setdefault(target, []).append((statement, operation))
        for target, members in by_table.items():
            # a merged sink takes the table's own options: an INSERT hinting any other option
            # than its transactional-id prefix keeps a sink of its own
            hinted = any(
                set(operation.getDynamicOptions().keySet()) - {"sink.transactional-id-prefix"}
                for _, operation in members
            )
            if len(members) == 1 or hinted:
                for statement, _ in members:
                    statements.add_insert_sql(statement)
                continue
            union = None
            for _, operation in members:
                branch = self._as_sink_columns(operation)
                union = branch if union is None else union.unionAll(branch)
            statements._j_statement_set.addInsert(target, union)
        return statements

    def _as_sink_columns(self, operation: Any) -> Any:
        """The query of one INSERT as a Java Table with the sink's persisted columns: renamed
        by position and cast to the column's type (nullable: the sink checks NOT NULL)."""
        from pyflink.java_gateway import get_gateway

        gateway = get_gateway()
        expressions = gateway.jvm.org.apache.flink.table.api.Expressions
        table = self.table_env._j_tenv.createTable(operation.getChild())
        columns = [
            column
            for column in operation.getContextResolvedTable().getResolvedSchema().getColumns()
            if column.isPersisted()
        ]
        if table.getResolvedSchema().getColumnCount() != len(columns):
            raise ValueError(
                f"an INSERT into {operation.getContextResolvedTable()} that does "
                "not write every column cannot share its sink"
            )
        names = [f"_c{index}" for index in range(len(columns))]
        rest = gateway.new_array(gateway.jvm.java.lang.String, len(names) - 1)
        for index, name in enumerate(names[1:]):
            rest[index] = name
        table = getattr(table, "as")(names[0], rest)
        selected = gateway.new_array(
            gateway.jvm.org.apache.flink.table.expressions.Expression, len(columns)
        )
        no_names = gateway.new_array(gateway.jvm.java.lang.String, 0)
        for index, column in enumerate(columns):
            cast = expressions.col(names[index]).cast(column.getDataType().nullable())
            selected[index] = getattr(cast, "as")(column.getName(), no_names)
        return table.select(selected)

    def collect(self, query: str) -> list[tuple[Any, ...]]:
        """Run a (bounded) query and return its rows; for tests and small checks."""
        with self.table_env.execute_sql(query).collect() as rows:
            return [tuple(row) for row in rows]
