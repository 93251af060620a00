"""The task's hot path: direct calls between nodes keep what ``forward`` guarantees (the
record context's timestamp, errors naming the processor they came from), and a task with
several inputs still takes the record with the lowest timestamp first."""

from __future__ import annotations

from typing import Any

import pytest

import strom
from strom import serdes
from strom.backends.api import ProducerRecord
from strom.backends.memory import MemoryBackend
from strom.core.errors import StreamsError
from strom.core.records import ConsumerRecord
from strom.core.types import TaskId
from strom.processor import Processor, Record
from strom.runtime.task import StreamTask
from strom.testing import TopologyTestDriver

S = serdes.String()


def fail_on(word: str):
    def fn(value: str) -> str:
        if value == word:
            raise ValueError(f"cannot take {word!r}")
        return value

    return fn


@pytest.mark.parametrize(
    ("failing", "expected"),
    [("first", "first"), ("second", "second"), ("third", "third")],
)
def test_an_error_names_the_processor_it_came_from(failing, expected):
    b = strom.StreamsBuilder()
    fns = {name: (fail_on("x") if name == failing else str) for name in ("first", "second")}
    (
        b.stream("in", key_serde=S, value_serde=S)
        .map_values(fns["first"], name="first")
        .flat_map_values(lambda v: [fns["second"](v)], name="second")
        .filter(lambda _k, v: fail_on("x")(v) if failing == "third" else True, name="third")
        .to("out", key_serde=S, value_serde=S)
    )
    with TopologyTestDriver(b.build()) as d:
        t = d.create_input_topic("in", S, S)
        t.pipe_input("k", "ok", 1)
        with pytest.raises(StreamsError, match=f"exception in processor '{expected}'"):
            t.pipe_input("k", "x", 2)


def test_an_error_in_a_branch_names_the_branch():
    b = strom.StreamsBuilder()
    stream = b.stream("in", key_serde=S, value_serde=S)
    stream.map_values(str.upper, name="upper").to("a", key_serde=S, value_serde=S)
    stream.map_values(fail_on("x"), name="picky").to("b", key_serde=S, value_serde=S)
    with (
        TopologyTestDriver(b.build()) as d,
        pytest.raises(StreamsError, match="exception in processor 'picky'"),
    ):
        d.create_input_topic("in", S, S).pipe_input("k", "x", 1)


class Retime(Processor[Any, Any]):
    """Forwards each record 1000 ms later and notes the timestamps it sees around that."""

    def __init__(self, seen: list[tuple[str, int]]) -> None:
        self.seen = seen

    def init(self, context: Any) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        self.seen.append(("retime before", self.context.record_context().timestamp))
        self.context.forward(record.with_timestamp(record.timestamp + 1000))
        self.seen.append(("retime after", self.context.record_context().timestamp))


class Note(Processor[Any, Any]):
    def __init__(self, seen: list[tuple[str, int]]) -> None:
        self.seen = seen

    def init(self, context: Any) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        self.seen.append(("note", self.context.record_context().timestamp))
        assert record.timestamp == self.context.record_context().timestamp
        self.context.forward(record)


def test_every_processor_sees_its_records_timestamp():
    seen: list[tuple[str, int]] = []
    b = strom.StreamsBuilder()
    (
        b.stream("in", key_serde=S, value_serde=S)
        .map_values(str.upper)
        .process(lambda: Retime(seen))
        .map_values(str.lower)
        .process(lambda: Note(seen))
        .to("out", key_serde=S, value_serde=S)
    )
    with TopologyTestDriver(b.build()) as d:
        d.create_input_topic("in", S, S).pipe_input("k", "v", 5)
        out = d.create_output_topic("out", S, S).read_records_to_list()
    assert seen == [("retime before", 5), ("note", 1005), ("retime after", 5)]
    assert [(r.value, r.timestamp) for r in out] == [("v", 1005)]


class ListCollector:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, int]] = []

    def send(self, topic, key, value, timestamp, headers, partition, partitioner=None) -> None:
        self.sent.append((topic, value, timestamp))


def test_a_task_with_several_inputs_takes_the_lowest_timestamp_first(tmp_path):
    b = strom.StreamsBuilder()
    b.stream(["left", "right"], key_serde=S, value_serde=S).to("out", key_serde=S, value_serde=S)
    collector = ListCollector()
    task = StreamTask(
        TaskId(0, 0), b.build().build("app", {}), "app", {}, collector, lambda: 0, tmp_path
    )
    task.initialize()

    def raw(topic: str, offset: int, ts: int) -> ConsumerRecord:
        return ConsumerRecord(topic, 0, offset, ts, b"k", f"{topic}{offset}".encode())

    task.add_records([raw("left", 0, 10), raw("left", 1, 30)])
    task.add_records([raw("right", 0, 5), raw("right", 1, 20), raw("right", 2, 40)])
    assert task.queued(("left", 0)) == 2 and task.queued(("right", 0)) == 3
    while task.process():
        pass
    assert collector.sent == [
        ("out", b"right0", 5),
        ("out", b"left0", 10),
        ("out", b"right1", 20),
        ("out", b"left1", 30),
        ("out", b"right2", 40),
    ]
    assert task.context.stream_time == 40
    assert task.prepare_commit() == {("left", 0): 2, ("right", 0): 3}
    task.close()


def test_memory_log_fetches_consumer_records_and_fills_in_what_producers_leave_out():
    with MemoryBackend() as log:
        log.create_topic("a")
        log.create_topic("b", partitions=2)
        batch = [
            ProducerRecord("a", b"k", b"1", 7),
            ProducerRecord("b", b"k", b"2", None, {"h": "x"}, 1),  # type: ignore[arg-type]
            ProducerRecord("a", None, b"3", 8, (("h", b"y"),)),
        ]
        original = list(batch)
        assert log.produce(batch) == [(0, 0), (1, 0), (0, 1)]
        assert batch == original  # the caller's list is left as it was
        a, b = log.fetch("a", 0, 0), log.fetch("b", 1, 0)
    assert all(type(r) is ConsumerRecord for r in a + b)
    assert a == [
        ConsumerRecord("a", 0, 0, 7, b"k", b"1"),
        ConsumerRecord("a", 0, 1, 8, None, b"3", (("h", b"y"),)),
    ]
    (only,) = b
    assert only.headers == (("h", b"x"),) and only.timestamp > 1_700_000_000_000
