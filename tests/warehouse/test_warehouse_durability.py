"""Acknowledged rows survive a stop and a kill -9; one server per path; a taken port."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from dataclasses import replace

import clickhouse_connect
import pytest

from classpulse.warehouse import daemon


def connect(settings):
    return clickhouse_connect.get_client(**settings.client_kwargs())


def test_acknowledged_rows_survive_a_restart(own_warehouse):
    settings = own_warehouse()
    client = connect(settings)
    client.command("CREATE DATABASE keep")
    client.command("CREATE TABLE keep.rows (id UInt32, note String) ENGINE = MergeTree ORDER BY id")
    client.command("CREATE TABLE keep.log (id UInt32) ENGINE = Log")
    client.command("CREATE VIEW keep.doubled AS SELECT id * 2 AS twice FROM keep.rows")
    assert client.insert("keep.rows", [(i, f"note {i}") for i in range(1000)]).written_rows == 1000
    client.insert("keep.log", [(i,) for i in range(10)])
    client.close()

    stopped = daemon.stop(settings)
    assert stopped is not None
    assert not daemon.status(settings).answering

    own_warehouse(settings)
    client = connect(settings)
    assert client.query("SELECT count(), sum(id) FROM keep.rows").first_row == (1000, 499500)
    assert client.command("SELECT note FROM keep.rows WHERE id = 999") == "note 999"
    assert client.command("SELECT count() FROM keep.log") == 10
    assert client.command("SELECT sum(twice) FROM keep.doubled") == 999000


def test_acknowledged_rows_survive_kill_9(own_warehouse):
    settings = own_warehouse()
    client = connect(settings)
    client.command(
        "CREATE TABLE default.acks (batch UInt32, n UInt32) ENGINE = MergeTree ORDER BY (batch, n)"
    )
    acknowledged: list[int] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def insert_until_killed() -> None:
        writer = connect(settings)
        batch = 0
        while not stop.is_set():
            try:
                writer.insert("default.acks", [(batch, n) for n in range(200)])
            except Exception as exc:  # the server died under us: expected
                failures.append(exc)
                return
            acknowledged.append(batch)
            batch += 1

    worker = threading.Thread(target=insert_until_killed)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 30:
            assert time.monotonic() < deadline and worker.is_alive(), failures
            time.sleep(0.01)
        pid = daemon.read_pid(daemon.ServerFiles(settings.warehouse_path))
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # while inserts are still in flight
        worker.join(timeout=60)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert failures, "the inserts never noticed the server was gone"
    kept = list(acknowledged)

    own_warehouse(settings)  # same path, same port
    client = connect(settings)
    batches = dict(
        client.query("SELECT batch, count() FROM default.acks GROUP BY batch").result_rows
    )
    missing = [batch for batch in kept if batches.get(batch) != 200]
    assert missing == [], f"acknowledged batches lost or partial after kill -9: {missing}"
    # at most the one unacknowledged batch in flight may have landed too
    assert set(batches) - set(kept) <= {len(kept)}


def test_a_second_server_on_the_same_path_is_refused(own_warehouse, free_port):
    settings = own_warehouse()
    with pytest.raises(daemon.WarehouseError) as failure:
        daemon.start(settings)
    message = str(failure.value)
    assert str(settings.warehouse_path) in message
    assert "already running" in message

    # Without the pid file (deleted by hand, say), the path's lock still refuses.
    files = daemon.ServerFiles(settings.warehouse_path)
    pid_text = files.pid_file.read_text()
    files.pid_file.unlink()
    try:
        elsewhere = replace(settings, clickhouse_port=free_port())
        with pytest.raises(daemon.WarehouseError) as failure:
            daemon.start(elsewhere, wait_s=30)
        message = str(failure.value)
        assert "another warehouse server" in message
        assert str(settings.warehouse_path) in message
        assert not daemon.ping("127.0.0.1", elsewhere.clickhouse_port)
    finally:
        files.pid_file.write_text(pid_text)
    assert connect(settings).command("SELECT 1") == 1  # the first server is unharmed


def test_a_taken_port_is_refused_with_its_number(tmp_path, free_port, warehouse_settings):
    port = free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        settings = warehouse_settings(tmp_path / "data", port)
        with pytest.raises(daemon.WarehouseError) as failure:
            daemon.start(settings)
    assert str(port) in str(failure.value)
    assert "in use" in str(failure.value)
    assert daemon.read_pid(daemon.ServerFiles(settings.warehouse_path)) is None
