"""The Faust-style API: the seed's sample, offsets across restarts, sinks, tables, bad records."""

from __future__ import annotations

import doctest
import logging
import os
import runpy
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import strom
import strom.agents.mixin
import strom.agents.table
import strom.agents.topic
from strom import serdes
from strom.backends.registry import open_backend
from strom.core.errors import StromError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "faust_sample.py"
SAMPLE_OUT = "High-value order: o-2\nHigh-value order: o-4\n"


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def committed(broker: str, group: str, topic: str, partitions: int = 1) -> dict[int, int]:
    with open_backend(broker) as log:
        tps = [(topic, p) for p in range(partitions)]
        return {p: o for (_, p), o in log.committed(group, tps).items()}


class Order(strom.Record):
    order_id: str
    amount: float


# ---- the seed's sample -----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["memory", "local"])
def test_seed_sample_prints_the_high_value_orders(scheme, tmp_path, monkeypatch, capsys):
    broker = "memory://" if scheme == "memory" else f"local://{tmp_path / 'log'}"
    monkeypatch.setenv("STROM_BROKER", broker)
    monkeypatch.chdir(tmp_path)
    sample = runpy.run_path(str(SAMPLE), run_name="faust_sample")
    assert isinstance(sample["app"], strom.App)
    assert issubclass(sample["Order"], strom.Record)
    sample["main"]()
    assert capsys.readouterr().out == SAMPLE_OUT
    assert sample["process_orders"].processed == len(sample["ORDERS"])


def test_seed_sample_runs_as_a_program_and_resumes(tmp_path):
    env = {**os.environ, "STROM_BROKER": f"local://{tmp_path / 'log'}"}
    for _ in range(2):  # the second run sends new orders and sees only those
        done = subprocess.run(
            [sys.executable, str(SAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == SAMPLE_OUT
    assert committed(env["STROM_BROKER"], "myapp-agent-process_orders", "orders") == {0: 10}


# ---- offsets ---------------------------------------------------------------------------------


def collector_app(broker: str, seen: list[Any], **options: Any) -> tuple[strom.App, Any, Any]:
    app = strom.App("restart", broker=broker, **options)
    events = app.topic("events", key_type=str, partitions=3)

    @app.agent(events)
    async def collect(stream):
        async for key, value in stream.items():
            seen.append((key, value))

    return app, events, collect


def test_restart_continues_from_the_committed_offsets(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    seen: list[Any] = []
    app, events, collect = collector_app(broker, seen)
    for i in range(6):
        events.send_soon(key=f"k{i}", value={"n": i})
    app.start()
    wait_for(lambda: collect.processed == 6)
    app.close()
    assert sorted(seen) == [(f"k{i}", {"n": i}) for i in range(6)]
    assert sum(committed(broker, "restart-agent-collect", "events", 3).values()) == 6

    seen.clear()
    app, events, collect = collector_app(broker, seen)
    for i in range(6, 8):
        events.send_soon(key=f"k{i}", value={"n": i})
    app.start()
    wait_for(lambda: collect.processed == 2)
    time.sleep(0.3)  # time to (wrongly) see an old event again
    app.close()
    assert sorted(seen) == [("k6", {"n": 6}), ("k7", {"n": 7})]


def test_sigterm_stops_the_agents_cleanly(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import strom
            app = strom.App("term", broker={broker!r})
            events = app.topic("events")

            @app.agent(events)
            async def echo(stream):
                async for value in stream:
                    print(value, flush=True)

            for i in range(3):
                events.send_soon(value=i)
            app.run()
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert [proc.stdout.readline() for _ in range(3)] == ["0\n", "1\n", "2\n"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.communicate()
    assert committed(broker, "term-agent-echo", "events") == {0: 3}


# ---- sinks -----------------------------------------------------------------------------------


def test_yield_forwards_to_the_sinks_keyed_as_the_event():
    broker = f"memory://agents-{uuid.uuid4().hex}"
    app = strom.App("sinks", broker=broker)
    numbers = app.topic("numbers", key_type=str, value_type=int)
    tens = app.topic("tens", key_type=str, value_type=int)
    called: list[int] = []

    @app.agent(numbers, sink=[tens, called.append])
    async def times_ten(stream):
        async for n in stream:
            yield n * 10

    for key, n in [("a", 1), ("b", 2), ("a", 3)]:
        numbers.send_soon(key=key, value=n)
    app.start()
    wait_for(lambda: times_ten.processed == 3)
    app.close()
    assert called == [10, 20, 30]
    with strom.Client(broker) as client:
        out = client.read("tens", key_serde=serdes.String(), value_serde=serdes.Long())
        assert [(r.key, r.value) for r in out] == [("a", 10), ("b", 20), ("a", 30)]


def test_an_agent_sends_to_a_topic_another_agent_consumes():
    app = strom.App("chain", broker="memory://")
    words = app.topic("words", value_type=str)
    upper = app.topic("upper", value_type=str)
    got: list[str] = []

    @app.agent(words)
    async def shout(stream):
        async for word in stream:
            await upper.send(value=word.upper())

    @app.agent(upper)
    async def collect(stream):
        async for word in stream:
            got.append(word)

    for word in ["kafka", "streams"]:
        words.send_soon(value=word)
    app.start()
    wait_for(lambda: collect.processed == 2)
    app.close()
    assert got == ["KAFKA", "STREAMS"]


def test_agents_and_the_dsl_share_the_app_and_its_topics():
    """Declared topics exist before the topology starts, so the DSL can read them."""
    app = strom.App("mixed", broker="memory://", commit_interval_ms=100)
    numbers = app.topic("numbers", value_type=int)
    doubled = app.topic("doubled", value_type=int)
    app.stream("numbers", value_serde=serdes.Long()).map_values(lambda n: n * 2).to(
        "doubled", value_serde=serdes.Long()
    )
    got: list[int] = []

    @app.agent(doubled)
    async def collect(stream):
        async for n in stream:
            got.append(n)

    for n in [1, 2, 3]:
        numbers.send_soon(value=n)
    app.start()
    wait_for(lambda: collect.processed == 3)
    app.close()
    assert got == [2, 4, 6]


def test_offsets_and_tables_are_committed_every_commit_interval(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    app = strom.App("periodic", broker=broker, commit_interval_ms=100, state_dir=str(tmp_path))
    clicks = app.topic("clicks", key_type=str, partitions=2)
    counts = app.Table("counts", default=int)
    where: list[tuple[str, int, int]] = []

    @app.agent(clicks)
    async def count(stream):
        async for event in stream.events():
            counts[event.key] += 1
            where.append((event.topic, event.partition, event.offset))

    for user in ["ann", "bob", "ann"]:
        clicks.send_soon(key=user, value=None)
    app.start()
    try:
        wait_for(lambda: count.processed == 3)
        wait_for(lambda: sum(committed(broker, "periodic-agent-count", "clicks", 2).values()) == 3)
        with strom.Client(broker) as client:
            wait_for(lambda: len(client.read("periodic-counts-changelog")) >= 2)
        assert app.is_running
    finally:
        app.close()
    for p in (0, 1):  # each partition's events in offset order, from 0
        offsets = [o for t, q, o in where if q == p and t == "clicks"]
        assert offsets == list(range(len(offsets)))
    assert len(where) == 3


# ---- tables ----------------------------------------------------------------------------------


def counting_app(broker: str, state_dir: Path) -> tuple[strom.App, Any, Any, Any]:
    app = strom.App("counter", broker=broker, state_dir=str(state_dir))
    clicks = app.topic("clicks", key_type=str)
    counts = app.Table("counts", default=int)

    @app.agent(clicks)
    async def count(stream):
        async for user, _click in stream.items():
            counts[user] += 1

    return app, clicks, counts, count


def run_counting(broker: str, state_dir: Path, users: list[str]) -> dict[str, int]:
    app, clicks, counts, count = counting_app(broker, state_dir)
    for user in users:
        clicks.send_soon(key=user, value={"page": "/"})
    app.start()
    try:
        wait_for(lambda: count.processed == len(users))
        return dict(counts.items())
    finally:
        app.close()


def test_a_table_survives_a_restart_restored_from_its_changelog(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    assert run_counting(broker, tmp_path / "state1", ["ann", "bob", "ann"]) == {"ann": 2, "bob": 1}
    # a fresh state dir: everything comes back from the changelog
    restored = run_counting(broker, tmp_path / "state2", ["ann", "cat"])
    assert restored == {"ann": 3, "bob": 1, "cat": 1}
    # the same state dir again: RocksDB plus the changelog's tail after its checkpoint
    assert run_counting(broker, tmp_path / "state2", ["bob"]) == {"ann": 3, "bob": 2, "cat": 1}
    with strom.Client(broker) as client:
        changelog = [(r.key, r.value) for r in client.read("counter-counts-changelog")]
    assert changelog[-1] == (b'"bob"', b"2")


def test_a_table_is_a_mapping_open_only_while_the_app_runs(tmp_path):
    app, _clicks, counts, _count = counting_app("memory://", tmp_path)
    with pytest.raises(StromError, match="only while its app runs"):
        counts["ann"]
    app.start()
    try:
        assert counts["nobody"] == 0 and "nobody" not in counts
        counts["ann"] = 5
        assert counts.get("ann") == 5 and len(counts) == 1 and list(counts) == ["ann"]
        del counts["ann"]
        assert counts.get("ann", -1) == -1
        with pytest.raises(KeyError):
            del counts["ann"]
    finally:
        app.close()


# ---- bad records and failures ----------------------------------------------------------------


def test_a_bad_record_is_logged_skipped_and_counted(tmp_path, caplog):
    broker = f"local://{tmp_path / 'log'}"
    app = strom.App("orders-app", broker=broker)
    orders = app.topic("orders", value_type=Order)
    got: list[Order] = []

    @app.agent(orders)
    async def take(stream):
        async for order in stream:
            got.append(order)

    with strom.Client(broker) as client:
        client.create_topic("orders")
        client.produce("orders", b"not json")
        client.produce("orders", b'{"order_id": "o-1"}')  # no amount: fails validation
        client.produce("orders", Order(order_id="o-2", amount=5.0).dumps())
    with caplog.at_level(logging.WARNING, logger="strom.agents"):
        app.start()
        wait_for(lambda: take.processed == 1)
        app.close()
    assert got == [Order(order_id="o-2", amount=5.0)]
    assert take.skipped == 2
    assert "orders[0] at offset 0" in caplog.text and "orders[0] at offset 1" in caplog.text
    assert committed(broker, "orders-app-agent-take", "orders") == {0: 3}


def test_a_failing_agent_stops_the_app_and_its_event_comes_again(tmp_path):
    broker = f"local://{tmp_path / 'log'}"

    def make(fail_on: int | None, seen: list[int]) -> tuple[strom.App, Any]:
        app = strom.App("fragile", broker=broker)
        numbers = app.topic("numbers", value_type=int)

        @app.agent(numbers)
        async def check(stream):
            async for n in stream:
                if n == fail_on:
                    raise ValueError(f"cannot take {n}")
                seen.append(n)

        return app, numbers

    seen: list[int] = []
    app, numbers = make(fail_on=2, seen=seen)
    for n in range(4):
        numbers.send_soon(value=n)
    app.start()
    wait_for(lambda: not app.is_running)
    with pytest.raises(StromError, match="agent 'check' failed"):
        app.close()
    assert seen == [0, 1]
    app, _ = make(fail_on=None, seen=seen)
    app.start()
    wait_for(lambda: len(seen) == 4)
    app.close()
    assert seen == [0, 1, 2, 3]


def test_agents_must_be_async_functions():
    app = strom.App("typed", broker="memory://")
    with pytest.raises(TypeError, match="async def"):
        app.agent(app.topic("t"))(lambda stream: None)


@pytest.mark.parametrize("module", [strom.agents.mixin, strom.agents.table, strom.agents.topic])
def test_docstring_examples_run(module):
    assert doctest.testmod(module).failed == 0
