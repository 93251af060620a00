"""Error handlers: poison pills go to a dead-letter topic with headers naming the error and
where the record came from, and processing goes on with nothing lost around them."""

from __future__ import annotations

import itertools
import time

import pytest

import strom
from strom import serdes
from strom.core.errors import ConfigError, StreamsError
from strom.testing import TopologyTestDriver

S, L = serdes.String(), serdes.Long()
_names = itertools.count()


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_poison_pill_goes_to_the_dead_letter_topic_and_processing_continues(tmp_path):
    broker = f"memory://errors-{next(_names)}"
    with strom.Client(broker) as client:
        for topic in ("nums", "doubled", "dlq"):
            client.create_topic(topic)
        client.produce("nums", L.serialize("t", 1), key="a", timestamp=1)
        client.produce("nums", b"poison", key="b", timestamp=2, headers={"trace": "t-2"})
        client.produce("nums", L.serialize("t", 3), key="c", timestamp=3)
        app = strom.App(
            "dlq-app",
            broker=broker,
            state_dir=str(tmp_path),
            commit_interval_ms=10,
            deserialization_exception_handler="log_and_continue",
            errors_dead_letter_queue_topic_name="dlq",
        )
        app.stream("nums", key_serde=S, value_serde=L).map_values(lambda v: v * 2).to(
            "doubled", key_serde=S, value_serde=L
        )
        app.start()
        try:
            wait_for(lambda: len(client.read("doubled")) == 2 and len(client.read("dlq")) == 1)
        finally:
            app.close()
        assert [(r.key, r.value) for r in client.read("doubled", S, L)] == [("a", 2), ("c", 6)]
        (dead,) = client.read("dlq")
        headers = dict(dead.headers)
    assert (dead.key, dead.value, dead.timestamp) == (b"b", b"poison", 2)
    assert headers["trace"] == b"t-2"
    assert headers["__streams.errors.exception"] == b"DeserializationError"
    assert (
        b"Size of data received by Long deserializer is not 8 but 6"
        in headers["__streams.errors.message"]
    )
    assert (
        headers["__streams.errors.topic"],
        headers["__streams.errors.partition"],
        headers["__streams.errors.offset"],
    ) == (b"nums", b"0", b"1")


def _driver(config):
    b = strom.StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=S).map_values(lambda v: 10 // int(v)).to(
        "out", key_serde=S, value_serde=L
    )
    return TopologyTestDriver(b.build(), config)


def test_processing_errors_fail_by_default_and_can_be_skipped():
    with _driver({}) as d, pytest.raises(StreamsError, match="ZeroDivisionError"):
        d.create_input_topic("in", S, S).pipe_input("k", "0", 1)
    config = {
        "processing.exception.handler": "log_and_continue",
        "errors.dead.letter.queue.topic.name": "dead",
    }
    with _driver(config) as d:
        t = d.create_input_topic("in", S, S)
        for v in ("1", "0", "5"):
            t.pipe_input("k", v, 1)
        assert d.create_output_topic("out", S, L).read_values_to_list() == [10, 2]
        (dead,) = d.create_output_topic("dead", S, S).read_records_to_list()
        assert dead.value == "0"
        assert dict(dead.headers)["__streams.errors.exception"] == b"ZeroDivisionError"
        assert d.task.metrics.dropped_records == 1


def test_production_errors_can_be_skipped():
    b = strom.StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=serdes.Json()).to(
        "out", key_serde=S, value_serde=L
    )  # a str value cannot be a Long
    with TopologyTestDriver(b.build(), {"production.exception.handler": "continue"}) as d:
        t = d.create_input_topic("in", S, serdes.Json())
        t.pipe_input("a", 1, 1)
        t.pipe_input("b", "two", 2)
        t.pipe_input("c", 3, 3)
        assert d.create_output_topic("out", S, L).read_key_values_to_list() == [("a", 1), ("c", 3)]


def test_unknown_handler_names_are_config_errors():
    with pytest.raises(ConfigError, match=r"processing\.exception\.handler must be one of"):
        _driver({"processing.exception.handler": "ignore"})


def test_uncaught_exception_handler_can_replace_the_worker(tmp_path):
    """A failure the handler answers with "replace_thread": a fresh worker resumes from the
    last commit (here the failing record is retried, and fails once only)."""
    broker = f"memory://errors-{next(_names)}"
    failures: list[str] = []

    def flaky(v: str) -> str:
        if v == "boom" and not failures:
            failures.append(v)
            raise RuntimeError("transient")
        return v.upper()

    with strom.Client(broker) as client:
        client.create_topic("in")
        client.create_topic("out")
        for v in ("a", "boom", "c"):
            client.produce("in", v, key="k", key_serde=S, value_serde=S)
        app = strom.App("replace", broker=broker, state_dir=str(tmp_path), commit_interval_ms=10)
        app.stream("in", key_serde=S, value_serde=S).map_values(flaky).to(
            "out", key_serde=S, value_serde=S
        )
        seen: list[BaseException] = []
        app.set_uncaught_exception_handler(lambda e: seen.append(e) or "replace_thread")
        app.start()
        try:
            wait_for(lambda: "C" in [r.value for r in client.read("out", S, S)])
        finally:
            app.close()
        values = [r.value for r in client.read("out", S, S)]
    assert values[-2:] == ["BOOM", "C"] and values.count("BOOM") == 1
    assert len(seen) == 1 and "transient" in str(seen[0])
