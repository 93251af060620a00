"""Standby-replica scenarios shared by local:// (tests/runtime) and a real Kafka broker
(tests/kafka): a standby follows its active task, serves stale queries, is promoted when the
owner leaves (restoring only the tail), and its checkpoint lets a restart skip the changelog."""

from __future__ import annotations

import time
import uuid

import strom
from strom import serdes
from strom.core.types import TaskId
from strom.runtime.status import snapshot
from strom.web.metrics import render as render_metrics

S, L = serdes.String(), serdes.Long()


class Names:
    """Topic and application names of one scenario run (unique on a shared broker)."""

    def __init__(self, unique: bool) -> None:
        suffix = f"-{uuid.uuid4().hex[:8]}" if unique else ""
        self.app = f"standby{suffix}"
        self.lines = f"lines{suffix}"
        self.out = f"counts-out{suffix}"
        self.changelog = f"{self.app}-counts-changelog"


def wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def make_app(broker, names, state_dir, store, server):
    app = strom.App(
        names.app,
        broker=broker,
        state_dir=str(state_dir),
        commit_interval_ms=50,
        num_standby_replicas=1,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=100,
        default_dsl_store=store,
        application_server=server,
    )
    (
        app.stream(names.lines, key_serde=S, value_serde=S)
        .flat_map_values(str.split)
        .group_by(lambda _, w: w, key_serde=S)
        .count(store="counts")
        .to_stream()
        .to(names.out, key_serde=S, value_serde=L)
    )
    return app


def counts(client, names) -> dict[str, int]:
    return {r.key: r.value for r in client.read(names.out, S, L)}


def settled(*apps) -> bool:
    """Every partition of the count's sub-topology active once and standing by once, and
    every standby caught up."""
    workers = [a._running for a in apps]
    active = [t for w in workers for t in w.tasks if t.subtopology == 1]
    standby = [t for w in workers for t in w.standbys]
    return (
        sorted(active) == [TaskId(1, 0), TaskId(1, 1)]
        and sorted(standby) == sorted(active)
        and all(not set(w.tasks) & set(w.standbys) for w in workers)
        and all(s.lag() == 0 for w in workers for s in w.standbys.values())
    )


def produce_lines(client, names, lines, start=0):
    for i, line in enumerate(lines, start):
        client.produce(names.lines, line, key=f"k{i}", key_serde=S, value_serde=S, timestamp=i)


def promoted_when_the_owner_leaves(broker, tmp_path, store, unique=False):
    names = Names(unique)
    words = [f"w{i}" for i in range(300)]
    lines = [" ".join(words[i : i + 10]) for i in range(0, 300, 10)]
    expected = {w: 1 for w in words}
    with strom.Client(broker) as client:
        client.create_topic(names.lines, partitions=2)
        client.create_topic(names.out, partitions=2)
        produce_lines(client, names, lines)
        a = make_app(broker, names, tmp_path / "a", store, "host-a:1")
        b = make_app(broker, names, tmp_path / "b", store, "host-b:1")
        a.start()
        wait_for(lambda: counts(client, names) == expected, what="first counts")
        b.start()  # joins: one partition moves to b, a keeps a standby copy of it
        try:
            wait_for(lambda: settled(a, b), what="one active and one standby per partition")
            wa, wb = a._running, b._running
            # stale queries read the standby too: each instance sees every key
            assert len(dict(b.store("counts").all())) < len(words)
            assert dict(b.store("counts", stale=True).all()) == expected
            assert dict(a.store("counts", stale=True).all()) == expected
            key = "w7"
            meta = a.query_metadata_for_key("counts", key)
            owner_host = "host-a:1" if TaskId(1, meta.partition) in wa.tasks else "host-b:1"
            other = "host-b:1" if owner_host == "host-a:1" else "host-a:1"
            assert (meta.active_host, meta.standby_hosts) == (owner_host, (other,))

            # the status page, its JSON and /metrics show the standbys
            snap = snapshot(wa)
            assert [(t["id"], t["lag"]) for t in snap["standby_tasks"]] == [
                (str(t), 0) for t in sorted(wa.standbys)
            ]
            text = render_metrics(snap, names.app)
            assert f'strom_standby_tasks{{application="{names.app}"}} 1' in text

            produce_lines(client, names, ["w1 w2 w3 w299"], start=1000)
            expected2 = {**expected, "w1": 2, "w2": 2, "w3": 2, "w299": 2}
            wait_for(lambda: counts(client, names) == expected2, what="counts after more input")
            wait_for(lambda: settled(a, b), what="standbys caught up")
            a_tasks = [t for t in wa.tasks if t.subtopology == 1]
            assert names.changelog in client.list_topics()
            a.close()  # b takes over a's partition: from its standby, not from scratch
            wait_for(lambda: all(t in wb.tasks for t in a_tasks), what="takeover")
            for tid in a_tasks:
                assert wb.tasks[tid].state.restored <= 5  # the tail only (a's last commit)
            produce_lines(client, names, ["w5 w6"], start=2000)
            expected3 = {**expected2, "w5": 2, "w6": 2}
            wait_for(lambda: counts(client, names) == expected3, what="counts after failover")
            assert dict(b.store("counts").all()) == expected3
        finally:
            a.close()
            b.close()


def checkpoint_lets_a_restart_skip_the_changelog(broker, tmp_path, unique=False):
    names = Names(unique)
    words = [f"w{i}" for i in range(200)]
    expected = {w: 1 for w in words}
    with strom.Client(broker) as client:
        client.create_topic(names.lines, partitions=2)
        client.create_topic(names.out, partitions=2)
        produce_lines(client, names, [" ".join(words[i : i + 10]) for i in range(0, 200, 10)])
        a = make_app(broker, names, tmp_path / "a", "rocksDB", "host-a:1")
        b = make_app(broker, names, tmp_path / "b", "rocksDB", "host-b:1")
        a.start()
        b.start()
        try:
            wait_for(lambda: counts(client, names) == expected and settled(a, b), what="settled")
            standby_of_b = list(b._running.standbys)
        finally:
            b.close()  # first: its standbys close with a checkpoint
            a.close()
        # b alone: the task it kept a standby of restores from the standby's checkpoint
        b = make_app(broker, names, tmp_path / "b", "rocksDB", "host-b:1")
        b.start()
        try:
            wait_for(lambda: all(t in b._running.tasks for t in standby_of_b), what="b owns all")
            for tid in standby_of_b:
                assert b._running.tasks[tid].state.restored == 0
            produce_lines(client, names, ["w0 w199"], start=500)
            wait_for(
                lambda: counts(client, names) == {**expected, "w0": 2, "w199": 2}, what="new counts"
            )
        finally:
            b.close()
