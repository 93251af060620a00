"""The Processor API through the driver: forwarding, stores, punctuation, errors."""

from __future__ import annotations

import pytest

from kit import L, S
from strom import Topology
from strom.core.errors import StoreError, StreamsError, TopologyError
from strom.processor import Processor, PunctuationType, Record
from strom.state import Stores
from strom.testing import TopologyTestDriver


class Counter(Processor):
    """Counts per key in store "counts"; emits the count; punctuates every 10 ms of stream time."""

    def init(self, context):
        self.context = context
        self.store = context.get_state_store("counts")
        self.punctuations: list[int] = []
        context.schedule(10, PunctuationType.STREAM_TIME, self.punctuate)

    def process(self, record: Record) -> None:
        count = (self.store.get(record.key) or 0) + 1
        self.store.put(record.key, count)
        self.context.forward(record.with_value(count))

    def punctuate(self, timestamp: int) -> None:
        total = sum(v for _, v in self.store.all())
        self.context.forward(Record("total", total, timestamp))


def counter_topology(persistent: bool = False) -> Topology:
    supplier = (
        Stores.persistent_key_value_store("counts")
        if persistent
        else Stores.in_memory_key_value_store("counts")
    )
    return (
        Topology()
        .add_source("src", "in", key_serde=S, value_serde=S)
        .add_processor("count", Counter, "src")
        .add_state_store(Stores.key_value_store_builder(supplier, S, L), "count")
        .add_sink("sink", "out", "count", key_serde=S, value_serde=L)
    )


def test_processor_counts_and_stream_time_punctuation():
    with TopologyTestDriver(counter_topology()) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        out = d.create_output_topic("out", key_serde=S, value_serde=L)
        t.pipe_input("a", "x", 0)  # stream time 0: the punctuation fires at 0 (aligned to 0)
        t.pipe_input("b", "x", 5)
        t.pipe_input("a", "x", 9)
        t.pipe_input("a", "x", 3)  # out of order: stream time stays 9
        t.pipe_input("b", "x", 27)  # jumps past 10 and 20: fires once, at 27
        records = [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()]
    assert records == [
        ("a", 1, 0),
        ("total", 1, 0),
        ("b", 1, 5),
        ("a", 2, 9),
        ("a", 3, 3),
        ("b", 2, 27),
        ("total", 5, 27),
    ]


def test_wall_clock_punctuation_and_cancel():
    fired: list[int] = []

    class Ticker(Processor):
        def init(self, context):
            self.context = context
            self.handle = context.schedule(100, PunctuationType.WALL_CLOCK_TIME, self.tick)

        def tick(self, now):
            fired.append(now)
            self.context.forward(Record("tick", str(now), now))
            if len(fired) == 2:
                self.handle.cancel()

        def process(self, record):
            pass

    t = (
        Topology()
        .add_source("s", "in")
        .add_processor("p", Ticker, "s")
        .add_sink("k", "ticks", "p", key_serde=S, value_serde=S)
    )
    with TopologyTestDriver(t, initial_wall_clock_time_ms=1000) as d:
        out = d.create_output_topic("ticks", key_serde=S, value_serde=S)
        d.advance_wall_clock_time(99)
        assert fired == []
        d.advance_wall_clock_time(1)
        d.advance_wall_clock_time(250)  # due at 1200 and 1300: fires once, at 1350
        d.advance_wall_clock_time(1000)  # cancelled after the second
        assert fired == [1100, 1350]
        assert out.read_key_values_to_list() == [("tick", "1100"), ("tick", "1350")]


def test_forward_to_named_child_and_unknown_child():
    class Router(Processor):
        def init(self, context):
            self.context = context

        def process(self, record):
            self.context.forward(record, child_name=record.value)

    t = (
        Topology()
        .add_source("s", "in", key_serde=S, value_serde=S)
        .add_processor("r", Router, "s")
        .add_sink("left", "L", "r", key_serde=S, value_serde=S)
        .add_sink("right", "R", "r", key_serde=S, value_serde=S)
    )
    with TopologyTestDriver(t) as d:
        i = d.create_input_topic("in", key_serde=S, value_serde=S)
        i.pipe_input("k", "left", 1)
        i.pipe_input("k", "right", 2)
        assert d.create_output_topic("L", S, S).read_key_values_to_list() == [("k", "left")]
        assert d.create_output_topic("R", S, S).read_key_values_to_list() == [("k", "right")]
        with pytest.raises(StreamsError, match=r"forwarded to child 'middle'.*\['left', 'right'\]"):
            i.pipe_input("k", "middle", 3)


def test_store_not_connected_is_a_clear_error():
    class Sneaky(Processor):
        def init(self, context):
            context.get_state_store("counts")

        def process(self, record):
            pass

    t = counter_topology().add_processor("sneaky", Sneaky, "src")
    with pytest.raises(
        StoreError, match="processor 'sneaky' has no access to state store 'counts'"
    ):
        TopologyTestDriver(t)


def test_record_metadata_and_headers_pass_through():
    seen = []

    class Meta(Processor):
        def init(self, context):
            self.context = context

        def process(self, record):
            seen.append((self.context.record_metadata(), record.headers))
            self.context.forward(record.with_headers({"seen": b"yes"}))

    t = (
        Topology()
        .add_source("s", "in", key_serde=S, value_serde=S)
        .add_processor("m", Meta, "s")
        .add_sink("o", "out", "m", key_serde=S, value_serde=S)
    )
    with TopologyTestDriver(t) as d:
        d.create_input_topic("in", S, S).pipe_input("k", "v", 7, headers={"h": "1"})
        (rec,) = d.create_output_topic("out", S, S).read_records_to_list()
    assert seen == [(("in", 0, 0), (("h", b"1"),))]
    assert rec.headers == (("seen", b"yes"),) and rec.timestamp == 7


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda t: t.add_processor("p", Counter, "missing"), "names parent 'missing'"),
        (lambda t: t.add_source("src", "other"), "already added"),
        (lambda t: t.add_source("s2", "in"), "already read by source 'src'"),
        (lambda t: t.add_sink("x", "topic", "sink"), "sink 'sink' cannot be a parent"),
        (lambda t: t.connect_processor_and_state_stores("count", "nope"), "store 'nope'"),
        (lambda t: t.add_processor("p", Counter), "needs at least one parent"),
        (lambda t: t.add_state_store("not a builder"), "takes a store builder"),
    ],
)
def test_topology_build_errors(build, message):
    with pytest.raises(TopologyError, match=message):
        build(counter_topology())


def test_persistent_store_survives_driver_restart(tmp_path):
    cfg = {"state.dir": str(tmp_path), "application.id": "restart"}
    with TopologyTestDriver(counter_topology(persistent=True), cfg) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        t.pipe_input("a", "x", 1)
        t.pipe_input("a", "x", 2)
    assert (tmp_path / "restart" / "0_0" / "rocksdb" / "counts").is_dir()
    with TopologyTestDriver(counter_topology(persistent=True), cfg) as d:
        d.create_input_topic("in", key_serde=S, value_serde=S).pipe_input("a", "x", 3)
        assert d.get_key_value_store("counts").get("a") == 3
        out = d.create_output_topic("out", key_serde=S, value_serde=L)
        assert [r for r in out.read_key_values_to_list() if r[0] == "a"] == [("a", 3)]
