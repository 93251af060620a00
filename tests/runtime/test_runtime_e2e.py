"""The runtime end to end on memory:// and local://: word count, restart, restore."""

from __future__ import annotations

import itertools
import time

import pytest

import strom
from strom import serdes
from strom.core.errors import UnknownTopicError

S, L = serdes.String(), serdes.Long()
_names = itertools.count()


def word_count(app: strom.App) -> None:
    (
        app.stream("lines", key_serde=S, value_serde=S)
        .flat_map_values(str.split)
        .group_by(lambda _, w: w, key_serde=S)
        .count(store="counts")
        .to_stream()
        .to("counts-out", key_serde=S, value_serde=L)
    )


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def final_counts(client: strom.Client) -> dict[str, int]:
    return {r.key: r.value for r in client.read("counts-out", S, L)}


@pytest.fixture(params=["memory", "local"])
def broker(request, tmp_path):
    if request.param == "memory":
        return f"memory://e2e-{next(_names)}"
    return f"local://{tmp_path / 'log'}"


def make_app(broker, tmp_path, **options):
    app = strom.App(
        "wc", broker=broker, state_dir=str(tmp_path / "state"), commit_interval_ms=50, **options
    )
    word_count(app)
    return app


LINES = ["a b a", "c a", "b b b", "d"]
EXPECTED = {"a": 3, "b": 4, "c": 1, "d": 1}


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_word_count_runs_and_restarts(broker, tmp_path, guarantee):
    with strom.Client(broker) as client:
        client.create_topic("lines", partitions=3)
        client.create_topic("counts-out", partitions=3)
        for i, line in enumerate(LINES):
            client.produce("lines", line, key=f"k{i}", value_serde=S, key_serde=S, timestamp=i)
        app = make_app(broker, tmp_path, processing_guarantee=guarantee)
        app.start()
        try:
            wait_for(lambda: final_counts(client) == EXPECTED)
        finally:
            app.close()
        topics = client.list_topics()
        assert topics["wc-counts-changelog"].partitions == 3
        assert topics["wc-counts-repartition"].partitions == 3
        assert topics["wc-counts-changelog"].config["cleanup.policy"] == "compact"

        # a second run continues from committed offsets and restored state
        client.produce("lines", "a e", key="k9", value_serde=S, key_serde=S, timestamp=10)
        app = make_app(broker, tmp_path, processing_guarantee=guarantee)
        app.start()
        try:
            wait_for(lambda: final_counts(client) == {**EXPECTED, "a": 4, "e": 1})
        finally:
            app.close()
        if guarantee == "exactly_once_v2":
            ones = [(r.key, r.value) for r in client.read("counts-out", S, L) if r.key == "a"]
            assert [v for _, v in ones] == sorted({v for _, v in ones})  # no update twice


def test_in_memory_stores_restore_from_the_changelog(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    with strom.Client(broker) as client:
        client.create_topic("lines")
        client.create_topic("counts-out")
        client.produce("lines", "x y x", value_serde=S, timestamp=1)
        for round_ in (1, 2):
            app = make_app(broker, tmp_path, default_dsl_store="in_memory")
            app.start()
            try:
                wait_for(lambda r=round_: final_counts(client).get("x") == 2 * r)
            finally:
                app.close()
            client.produce("lines", "x x", value_serde=S, timestamp=2)
        assert final_counts(client)["y"] == 1


def test_unknown_source_topic_is_a_clear_error_at_start(tmp_path):
    app = make_app(f"memory://e2e-{next(_names)}", tmp_path)
    with pytest.raises(UnknownTopicError, match=r"reads topics that do not exist: \['lines'\]"):
        app.start()


def test_bad_input_stops_the_app_naming_topic_partition_offset(tmp_path):
    broker = f"memory://e2e-{next(_names)}"
    with strom.Client(broker) as client:
        client.create_topic("nums")
        client.create_topic("out")
        client.produce("nums", b"\x00\x00\x00\x00\x00\x00\x00\x07", timestamp=1)
        client.produce("nums", b"oops", timestamp=2)
        app = strom.App("bad", broker=broker, state_dir=str(tmp_path), commit_interval_ms=10)
        app.stream("nums", value_serde=L).map_values(lambda v: v * 2).to("out", value_serde=L)
        app.start()
        wait_for(lambda: not app.is_running)
        with pytest.raises(
            strom.core.errors.StromError, match=r"topic='nums', partition=0, offset=1"
        ):
            app.close()
        assert [r.value for r in client.read("out", value_serde=L)] in ([], [14])


def test_log_and_continue_skips_bad_records(tmp_path):
    broker = f"memory://e2e-{next(_names)}"
    with strom.Client(broker) as client:
        client.create_topic("nums")
        client.create_topic("out")
        for raw in (L.serialize("t", 1), b"oops", L.serialize("t", 3)):
            client.produce("nums", raw, timestamp=1)
        app = strom.App(
            "skip",
            broker=broker,
            state_dir=str(tmp_path),
            commit_interval_ms=10,
            deserialization_exception_handler="log_and_continue",
        )
        app.stream("nums", value_serde=L).to("out", value_serde=L)
        app.start()
        try:
            wait_for(lambda: len(client.read("out")) == 2)
        finally:
            app.close()
        assert [r.value for r in client.read("out", value_serde=L)] == [1, 3]


@pytest.mark.parametrize(
    ("broker", "message"),
    [
        ("kafak://localhost:9092", "kafak://localhost:9092"),
        ("localhost:9092", "memory://"),
    ],
)
def test_bad_broker_url_is_a_clear_error_at_start(tmp_path, broker, message):
    app = make_app(broker, tmp_path)
    with pytest.raises(strom.core.errors.BackendError, match=message):
        app.start()


@pytest.mark.parametrize("store", ["rocksDB", "in_memory"])
def test_window_state_survives_a_restart(tmp_path, store):
    broker = f"local://{tmp_path / 'log'}"
    # event times near now: window changelogs are deleted by time (retention + 1 day)
    base = time.time_ns() // 1_000_000 // 1000 * 1000

    def windowed_app() -> strom.App:
        app = strom.App(
            "win",
            broker=broker,
            state_dir=str(tmp_path / "state"),
            commit_interval_ms=20,
            default_dsl_store=store,
        )
        (
            app.stream("clicks", key_serde=S, value_serde=S)
            .group_by_key()
            .windowed_by(strom.TimeWindows.of_size_with_no_grace(1000))
            .count(store="per-second")
            .to_stream()
            .map(lambda k, v: (f"{k.key}@{k.window.start - base}", v))
            .to("counts-out", key_serde=S, value_serde=L)
        )
        return app

    with strom.Client(broker) as client:
        client.create_topic("clicks")
        client.create_topic("counts-out")

        def run_until(expected: dict[str, int]) -> None:
            app = windowed_app()
            app.start()
            try:
                wait_for(lambda: final_counts(client) == expected)
            finally:
                app.close()

        for ts in (100, 200, 1100):
            client.produce("clicks", "x", key="u", key_serde=S, value_serde=S, timestamp=base + ts)
        run_until({"u@0": 2, "u@1000": 1})
        client.produce("clicks", "x", key="u", key_serde=S, value_serde=S, timestamp=base + 1500)
        run_until({"u@0": 2, "u@1000": 2})


def test_window_changelogs_are_compacted_and_deleted_by_retention(tmp_path):
    broker = f"memory://e2e-{next(_names)}"
    with strom.Client(broker) as client:
        client.create_topic("clicks")
        app = strom.App("wl", broker=broker, state_dir=str(tmp_path))
        (
            app.stream("clicks", key_serde=S, value_serde=S)
            .group_by_key()
            .windowed_by(strom.TimeWindows.of_size_and_grace(1000, 500))
            .count(store="w")
        )
        app.start()
        app.close()
        config = client.list_topics()["wl-w-changelog"].config
    assert config["cleanup.policy"] == "compact,delete"
    assert config["retention.ms"] == str(1500 + 86_400_000)


def test_emit_on_close_emits_each_window_once_across_restarts(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    base = time.time_ns() // 1_000_000 // 1000 * 1000

    def app_() -> strom.App:
        app = strom.App(
            "final",
            broker=broker,
            state_dir=str(tmp_path / "state"),
            commit_interval_ms=20,
            config={"__emit.interval.ms.kstreams.windowed.aggregation__": 0},
        )
        (
            app.stream("clicks", key_serde=S, value_serde=S)
            .group_by_key()
            .windowed_by(strom.TimeWindows.of_size_with_no_grace(1000))
            .emit_strategy(strom.windows.EmitStrategy.on_window_close())
            .count(retention=60_000)
            .to_stream()
            .map(lambda k, v: (f"{k.key}@{k.window.start - base}", v))
            .to("counts-out", key_serde=S, value_serde=L)
        )
        return app

    def emitted(client: strom.Client) -> list[tuple[str, int]]:
        return [(r.key, r.value) for r in client.read("counts-out", S, L)]

    with strom.Client(broker) as client:
        client.create_topic("clicks")
        client.create_topic("counts-out")
        for ts in (100, 200, 1100):
            client.produce("clicks", "x", key="u", key_serde=S, value_serde=S, timestamp=base + ts)
        for expected in ([("u@0", 2)], [("u@0", 2), ("u@1000", 1)]):
            app = app_()
            app.start()
            try:
                wait_for(lambda e=expected: emitted(client) == e)
                time.sleep(0.2)
                assert emitted(client) == expected
            finally:
                app.close()
            client.produce(
                "clicks", "x", key="u", key_serde=S, value_serde=S, timestamp=base + 2100
            )


def test_state_of_another_log_is_wiped_not_reused(tmp_path):
    """Same application id and state dir, a fresh log: the old checkpoint is ahead of the new
    changelog, so the local state is wiped and restored (Kafka's corrupted-task rule)."""
    for _ in range(2):
        broker = f"memory://e2e-{next(_names)}"
        with strom.Client(broker) as client:
            client.create_topic("lines")
            client.create_topic("counts-out")
            client.produce("lines", "a b a", value_serde=S, timestamp=1)
            app = make_app(broker, tmp_path)
            app.start()
            try:
                wait_for(lambda c=client: final_counts(c) == {"a": 2, "b": 1})
            finally:
                app.close()


def test_consumed_repartition_records_are_purged(tmp_path, monkeypatch):
    from strom.runtime import worker

    monkeypatch.setattr(worker, "PURGE_INTERVAL_MS", 0)
    broker = f"local://{tmp_path / 'log'}"
    with strom.Client(broker) as client:
        client.create_topic("lines")
        client.create_topic("counts-out")
        for i, line in enumerate(LINES):
            client.produce("lines", line, key=f"k{i}", value_serde=S, key_serde=S, timestamp=i)
        app = make_app(broker, tmp_path)
        app.start()
        try:
            wait_for(lambda: final_counts(client) == EXPECTED)
            wait_for(lambda: client.backend.offsets("wc-counts-repartition", 0)[0] > 0)
        finally:
            app.close()
        begin, end = client.backend.offsets("wc-counts-repartition", 0)
        words = sum(len(line.split()) for line in LINES)
        assert 0 < begin <= end == words  # every word went through; consumed ones are gone


def test_stop_from_a_signal_handler_inside_the_loop_wait_does_not_hang(tmp_path):
    """A signal handler runs in the loop's thread (App.run runs the loop in the main thread)
    and may interrupt it inside ``Event.wait``, which holds the event's lock: ``stop`` must
    not wait for that lock (it did: SIGTERM hung a worker now and then)."""
    import threading

    broker = f"memory://e2e-{next(_names)}"
    with strom.Client(broker) as client:
        client.create_topic("lines")
        client.create_topic("counts-out")
        app = make_app(broker, tmp_path)
        worker = app._worker()
        outcome = []

        def loop_thread() -> None:
            worker._loop_thread = threading.current_thread()
            with worker._stop._cond:  # as if interrupted inside Event.wait()
                worker.stop()
            outcome.append(worker.stopping)

        t = threading.Thread(target=loop_thread, daemon=True)
        t.start()
        t.join(5)
        assert not t.is_alive(), "stop() blocked on the event's lock"
        assert outcome == [True]
        worker.run()  # returns at once: it was asked to stop (and closes the worker)
        other = threading.Thread(target=worker.stop)  # not the loop's thread: sets the event
        other.start()
        other.join(5)
        assert worker._stop.is_set()
