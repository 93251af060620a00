"""Stateless KStream operators: exact outputs (key, value, timestamp) as Kafka Streams gives."""

from __future__ import annotations

import pytest

from kit import S, drive
from strom import StreamsBuilder
from strom.core.errors import StreamsError, TopologyError
from strom.serdes import Integer, Json

INPUT = [("a", "1", 10), ("b", "22", 20), (None, "333", 30), ("d", None, 40)]


def test_filter_and_filter_not_keep_timestamps_and_null_keys():
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .filter(lambda k, v: v is not None and len(v) >= 2)
            .to("out", key_serde=S, value_serde=S)
        ),
        INPUT,
    )
    assert out["out"] == [("b", "22", 20), (None, "333", 30)]
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .filter_not(lambda k, v: v is not None and len(v) >= 2)
            .to("out", key_serde=S, value_serde=S)
        ),
        INPUT,
    )
    assert out["out"] == [("a", "1", 10), ("d", None, 40)]


def test_map_map_values_select_key():
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .filter(lambda k, v: v is not None)
            .map(lambda k, v: (v, k))
            .to("out", key_serde=S, value_serde=S)
        ),
        INPUT,
    )
    assert out["out"] == [("1", "a", 10), ("22", "b", 20), ("333", None, 30)]
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .filter(lambda k, v: v is not None)
            .map_values(len)
            .select_key(lambda k, v: f"{k}:{v}")
            .to("out", key_serde=S, value_serde=Integer())
        ),
        INPUT,
        {"out": (S, Integer())},
    )
    assert out["out"] == [("a:1", 1, 10), ("b:2", 2, 20), ("None:3", 3, 30)]


def test_flat_map_and_flat_map_values_keep_order_and_timestamp():
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .flat_map(lambda k, v: [(f"{k}{i}", c) for i, c in enumerate(v)])
            .to("out", key_serde=S, value_serde=S)
        ),
        [("k", "xy", 5), ("z", "", 6)],
    )
    assert out["out"] == [("k0", "x", 5), ("k1", "y", 5)]
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .flat_map_values(str.split)
            .to("out", key_serde=S, value_serde=S)
        ),
        [("k", "hello big world", 5)],
    )
    assert out["out"] == [("k", "hello", 5), ("k", "big", 5), ("k", "world", 5)]


def test_peek_and_foreach_see_every_record():
    seen: list[tuple[str, str]] = []
    done: list[tuple[str, str]] = []

    def build(b: StreamsBuilder) -> None:
        s = b.stream("in", key_serde=S, value_serde=S).peek(lambda k, v: seen.append((k, v)))
        s.foreach(lambda k, v: done.append((k, v)))
        s.to("out", key_serde=S, value_serde=S)

    out = drive(build, [("a", "1", 1), ("b", "2", 2)])
    assert seen == done == [("a", "1"), ("b", "2")]
    assert out["out"] == [("a", "1", 1), ("b", "2", 2)]


def test_merge_interleaves_in_arrival_order():
    def build(b: StreamsBuilder) -> None:
        left = b.stream("left", key_serde=S, value_serde=S)
        right = b.stream("right", key_serde=S, value_serde=S).map_values(str.upper)
        left.merge(right).to("out", key_serde=S, value_serde=S)

    out = drive(build, [("left", "a", "x", 3), ("right", "b", "y", 1), ("left", "c", "z", 2)])
    assert out["out"] == [("a", "x", 3), ("b", "Y", 1), ("c", "z", 2)]


def test_split_first_match_wins_default_and_names():
    """Kafka's KStreamSplitTest.testResultingMap, with keys 1..7 and values V<k>."""
    INT = Integer()

    def build(b: StreamsBuilder) -> None:
        stream = b.stream("in", key_serde=INT, value_serde=S)
        branches = (
            stream.split(name="foo-")
            .branch(lambda k, v: k % 2 == 0, name="bar")
            .branch(lambda k, v: k % 3 == 0, chain=lambda ks: ks.to("x3", value_serde=S))
            .branch(lambda k, v: k % 5 == 0, chain=lambda ks: None)
            .branch(lambda k, v: k % 7 == 0)
            .default_branch()
        )
        assert sorted(branches) == ["foo-0", "foo-4", "foo-bar"]
        for name, ks in branches.items():
            ks.to(name, key_serde=INT, value_serde=S)

    outs = {n: (INT, S) for n in ["foo-bar", "foo-4", "foo-0", "x3"]}
    out = drive(build, [(k, f"V{k}", k) for k in range(1, 8)], outs, key_serde=INT)
    assert [v for _, v, _ in out["foo-bar"]] == ["V2", "V4", "V6"]
    assert [v for _, v, _ in out["foo-4"]] == ["V7"]
    assert [v for _, v, _ in out["foo-0"]] == ["V1"]
    assert [v for _, v, _ in out["x3"]] == ["V3"]


def test_split_without_default_drops_unmatched():
    INT = Integer()

    def build(b: StreamsBuilder) -> None:
        br = (
            b.stream("in", key_serde=INT, value_serde=S)
            .split()
            .branch(lambda k, v: k % 2 == 0, name="even")
            .no_default_branch()
        )
        (only,) = br.values()
        only.to("out", key_serde=INT, value_serde=S)

    out = drive(build, [(k, f"V{k}", k) for k in range(1, 5)], {"out": (INT, S)}, key_serde=INT)
    assert out["out"] == [(2, "V2", 2), (4, "V4", 4)]


def test_to_with_topic_choosing_function_sees_record_context():
    contexts = []

    def choose(key, value, ctx):
        contexts.append((ctx.topic, ctx.partition, ctx.offset, ctx.timestamp))
        return f"{value['category']}-topic"

    def build(b: StreamsBuilder) -> None:
        b.stream("in", key_serde=S, value_serde=Json()).to(choose, key_serde=S, value_serde=Json())

    events = [("1", {"category": "info"}, 5), ("2", {"category": "error"}, 6)]
    out = drive(
        build, events, {"info-topic": (S, Json()), "error-topic": (S, Json())}, value_serde=Json()
    )
    assert out == {
        "info-topic": [("1", {"category": "info"}, 5)],
        "error-topic": [("2", {"category": "error"}, 6)],
    }
    assert contexts == [("in", 0, 0, 5), ("in", 0, 1, 6)]


def test_repartition_goes_through_internal_topic():
    def build(b: StreamsBuilder) -> None:
        (
            b.stream("in", key_serde=S, value_serde=S)
            .select_key(lambda k, v: v)
            .repartition(key_serde=S, value_serde=S, name="by-value")
            .to("out", key_serde=S, value_serde=S)
        )

    out = drive(
        build,
        [("a", "x", 1), (None, "y", 2)],
        {"out": (S, S), "test-app-by-value-repartition": (S, S)},
    )
    assert out["out"] == [("x", "x", 1), ("y", "y", 2)]
    assert out["test-app-by-value-repartition"] == out["out"]


def test_user_function_errors_name_the_processor_and_record():
    def build(b: StreamsBuilder) -> None:
        b.stream("in", key_serde=S, value_serde=S).map_values(lambda v: 1 / 0, name="divide").to(
            "out"
        )

    with pytest.raises(
        StreamsError, match=r"'divide'.*topic='in' partition=0 offset=0.*ZeroDivision"
    ):
        drive(build, [("a", "x", 1)])


def test_map_must_return_a_pair():
    with pytest.raises(StreamsError, match="must return a \\(key, value\\) pair"):
        drive(
            lambda b: b.stream("in", key_serde=S, value_serde=S).map(lambda k, v: v).to("out"),
            [("a", "xyz", 1)],
        )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda b: b.stream("in").filter(None), "filter\\(\\) takes a function"),
        (lambda b: b.stream("in").merge(None), "merge\\(\\) takes a KStream"),
        (lambda b: b.stream("in").process(lambda: None, "nope"), "state store 'nope'"),
        (lambda b: b.stream("in").to(42), "to\\(\\) takes a topic name"),
        (lambda b: (b.stream("in"), b.stream("in")), "already read by source"),
    ],
)
def test_build_time_errors_are_clear(build, message):
    b = StreamsBuilder()
    with pytest.raises(TopologyError, match=message):
        build(b)
        b.build()


def test_join_with_nothing_is_a_clear_build_error():
    b = StreamsBuilder()
    with pytest.raises(TopologyError, match=r"join\(\) joins this stream with a KStream"):
        b.stream("in").join(None, lambda a, b: a)


def test_process_with_a_store_added_to_the_builder():
    from strom.processor import Processor
    from strom.state import Stores

    class Dedupe(Processor):
        def init(self, context):
            self.context = context
            self.seen = context.get_state_store("seen")

        def process(self, record):
            if self.seen.put_if_absent(record.value, record.timestamp) is None:
                self.context.forward(record)

    def build(b: StreamsBuilder) -> None:
        b.add_state_store(
            Stores.key_value_store_builder(Stores.in_memory_key_value_store("seen"), S, Integer())
        )
        b.stream("in", key_serde=S, value_serde=S).process(Dedupe, "seen").to(
            "out", key_serde=S, value_serde=S
        )

    out = drive(build, [("a", "x", 1), ("b", "x", 2), ("c", "y", 3)])
    assert out["out"] == [("a", "x", 1), ("c", "y", 3)]
