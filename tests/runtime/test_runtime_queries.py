"""Interactive queries: app.store(name) views across local tasks; which instance holds a key."""

from __future__ import annotations

import time

import pytest

import strom
from strom import serdes
from strom.core.errors import StromError

S, L = serdes.String(), serdes.Long()


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_store_views_span_every_local_task(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    with strom.Client(broker) as client:
        client.create_topic("words", partitions=3)
        for w in ["a", "b", "c", "d", "a", "b", "a"]:
            client.produce("words", w, key=w, key_serde=S, value_serde=S)
        app = strom.App(
            "iq",
            broker=broker,
            state_dir=str(tmp_path / "state"),
            commit_interval_ms=20,
            application_server="localhost:7070",
        )
        counts = (
            app.stream("words", key_serde=S, value_serde=S).group_by_key().count(store="counts")
        )
        (
            counts.to_stream()
            .group_by_key()
            .windowed_by(strom.TimeWindows.of_size_with_no_grace(60_000))
            .count(store="per-min")
        )
        with pytest.raises(StromError, match="not running"):
            app.store("counts")
        app.start()
        try:
            view = app.store("counts")
            wait_for(lambda: dict(view.all()) == {"a": 3, "b": 2, "c": 1, "d": 1})
            assert view.get("a") == 3 and view.get("zzz") is None
            assert list(view.range("b", "c")) == [("b", 2), ("c", 1)]
            # the cache reaches the store below at the next commit
            wait_for(lambda: view.approximate_num_entries() >= 4)
            meta = app.query_metadata_for_key("counts", "a")
            assert meta.active_host == "localhost:7070"
            assert meta.partition == strom.core.partitioner.partition_for_key(b"a", 3)
            windows = app.store("per-min")
            # the count table's updates, counted per minute (caching may coalesce some)
            wait_for(lambda: list(windows.fetch("a", 0, 10**13)))
            assert all(1 <= n <= 3 for _, n in windows.fetch("a", 0, 10**13))
            with pytest.raises(strom.core.errors.StoreError, match="no state store named 'x'"):
                app.store("x")
        finally:
            app.close()
