"""KTable source, filter, map_values, to_stream and KStream.to_table: Kafka's KTable*Test cases."""

from __future__ import annotations

from typing import Any

import pytest

from kit import NO_CACHE, L, S, drive
from strom import StreamsBuilder
from strom.dsl.graph import ProcessorGraphNode
from strom.dsl.ktable import KTable
from strom.processor import Processor, Record
from strom.serdes import Integer
from strom.testing import TopologyTestDriver

INT = Integer()


def capture(table: KTable, seen: list[tuple[Any, Any, Any, int]]) -> None:
    """Attach a processor that records the Change records a table node forwards."""

    class Capture(Processor):
        def process(self, record: Record) -> None:
            seen.append((record.key, record.value.new, record.value.old, record.timestamp))

    graph = table._builder.graph
    graph.add(
        ProcessorGraphNode(
            f"capture-{len(graph.nodes)}", "capture", [table._node], supplier=Capture
        )
    )


def run(build, inputs, config, key_serde=S, value_serde=S):
    b = StreamsBuilder()
    build(b)
    with TopologyTestDriver(b.build(), {"application.id": "kt", **config}) as d:
        t = d.create_input_topic("in", key_serde=key_serde, value_serde=value_serde)
        for k, v, ts in inputs:
            t.pipe_input(k, v, ts)


def test_table_to_stream_forwards_updates_and_tombstones():
    """KTableSourceTest.testKTable."""
    out = drive(
        lambda b: (
            b.table("in", key_serde=S, value_serde=INT, store="ktable-store")
            .to_stream()
            .to("out", key_serde=S, value_serde=INT)
        ),
        [("A", 1, 10), ("B", 2, 11), ("C", 3, 12), ("D", 4, 13), ("A", None, 14), ("B", None, 15)],
        {"out": (S, INT)},
        value_serde=INT,
        config=NO_CACHE,
    )
    assert out["out"] == [
        ("A", 1, 10),
        ("B", 2, 11),
        ("C", 3, 12),
        ("D", 4, 13),
        ("A", None, 14),
        ("B", None, 15),
    ]


SOURCE_IN = [
    ("A", "01", 10),
    ("B", "01", 20),
    ("C", "01", 15),
    ("A", "02", 8),
    ("B", "02", 22),
    ("A", "03", 12),
    ("A", None, 15),
    ("B", None, 20),
]


def test_table_source_not_sending_old_values():
    """KTableSourceTest.testNotSendingOldValue: a table that is not materialized."""
    seen: list = []
    run(lambda b: capture(b.table("in", key_serde=S, value_serde=S), seen), SOURCE_IN, NO_CACHE)
    assert seen == [
        ("A", "01", None, 10),
        ("B", "01", None, 20),
        ("C", "01", None, 15),
        ("A", "02", None, 8),
        ("B", "02", None, 22),
        ("A", "03", None, 12),
        ("A", None, None, 15),
        ("B", None, None, 20),
    ]


def test_table_source_sending_old_values():
    """KTableSourceTest.testSendingOldValue."""
    seen: list = []

    def build(b: StreamsBuilder) -> None:
        t = b.table("in", key_serde=S, value_serde=S)
        assert t._enable_send_old_values(True)
        capture(t, seen)

    run(build, SOURCE_IN, NO_CACHE)
    assert seen == [
        ("A", "01", None, 10),
        ("B", "01", None, 20),
        ("C", "01", None, 15),
        ("A", "02", "01", 8),
        ("B", "02", "01", 22),
        ("A", "03", "02", 12),
        ("A", None, "03", 15),
        ("B", None, "02", 20),
    ]


def test_table_without_store_name_is_not_materialized():
    b = StreamsBuilder()
    b.table("input-topic").filter(lambda k, v: True)
    t = b.build()
    assert t.stores == {}
    assert "(stores: [])" in str(t.describe())


def test_delete_of_absent_key_forwarded_without_cache_dropped_with_cache():
    def build(b: StreamsBuilder) -> None:
        b.table("in", key_serde=S, value_serde=S, store="s").to_stream().to("out")

    no_cache = drive(build, [("A", None, 1)], {"out": (S, S)}, config=NO_CACHE)
    cached = drive(build, [("A", None, 1)], {"out": (S, S)}, config={})
    assert no_cache["out"] == [("A", None, 1)]
    assert cached["out"] == []


def test_table_drops_null_keys():
    out = drive(
        lambda b: b.table("in", key_serde=S, value_serde=S).to_stream().to("out"),
        [(None, "x", 1), ("k", "y", 2)],
        {"out": (S, S)},
    )
    assert out["out"] == [("k", "y", 2)]


FILTER_IN = [("A", 1, 10), ("B", 2, 5), ("C", 3, 8), ("D", 4, 14), ("A", None, 18), ("B", None, 15)]


@pytest.mark.parametrize("store", [None, "store2"])
def test_filter_and_filter_not_without_old_values(store):
    """KTableFilterTest.doTestKTable (also shouldPassThroughOnMaterialization)."""

    def build(b: StreamsBuilder) -> None:
        table = b.table("in", key_serde=S, value_serde=INT)
        table.filter(lambda k, v: v % 2 == 0, store=store).to_stream().to(
            "even", key_serde=S, value_serde=INT
        )
        table.filter_not(lambda k, v: v % 2 == 0).to_stream().to(
            "odd", key_serde=S, value_serde=INT
        )

    out = drive(
        build, FILTER_IN, {"even": (S, INT), "odd": (S, INT)}, value_serde=INT, config=NO_CACHE
    )
    assert out["even"] == [
        ("A", None, 10),
        ("B", 2, 5),
        ("C", None, 8),
        ("D", 4, 14),
        ("A", None, 18),
        ("B", None, 15),
    ]
    assert out["odd"] == [
        ("A", 1, 10),
        ("B", None, 5),
        ("C", 3, 8),
        ("D", None, 14),
        ("A", None, 18),
        ("B", None, 15),
    ]


OLD_IN = [
    ("A", 1, 5),
    ("B", 1, 10),
    ("C", 1, 15),
    ("A", 2, 15),
    ("B", 2, 8),
    ("A", 3, 20),
    ("A", None, 10),
    ("B", None, 20),
]


def test_filter_with_old_values_drops_needless_tombstones():
    """KTableFilterTest.doTestSendingOldValue: the source is materialized, so old values flow."""
    seen: list = []

    def build(b: StreamsBuilder) -> None:
        table = b.table("in", key_serde=S, value_serde=INT, store="src")
        filtered = table.filter(lambda k, v: v % 2 == 0)
        assert filtered._enable_send_old_values(True)
        capture(filtered, seen)

    run(build, OLD_IN, NO_CACHE, value_serde=INT)
    assert seen == [("A", 2, None, 15), ("B", 2, None, 8), ("A", None, 2, 20), ("B", None, 2, 20)]


def test_filter_without_old_values_forwards_every_tombstone():
    """KTableFilterTest.doTestNotSendingOldValue."""
    seen: list = []
    run(
        lambda b: capture(
            b.table("in", key_serde=S, value_serde=INT).filter(lambda k, v: v % 2 == 0), seen
        ),
        OLD_IN,
        NO_CACHE,
        value_serde=INT,
    )
    assert seen == [
        ("A", None, None, 5),
        ("B", None, None, 10),
        ("C", None, None, 15),
        ("A", 2, None, 15),
        ("B", 2, None, 8),
        ("A", None, None, 20),
        ("A", None, None, 10),
        ("B", None, None, 20),
    ]


def test_filter_before_group_by_skips_rejected_rows():
    """KTableFilterTest.shouldSkipNullToRepartitionWithoutMaterialization."""
    seen: list = []

    def build(b: StreamsBuilder) -> None:
        f = b.table("in", key_serde=S, value_serde=S).filter(lambda k, v: v == "accept")
        f.group_by(lambda k, v: (k, v), key_serde=S, value_serde=S).reduce(
            lambda a, v: v, lambda a, v: a
        )
        capture(f, seen)

    run(build, [("A", "reject", 1), ("B", "reject", 2), ("C", "reject", 3)], NO_CACHE)
    assert seen == []


def test_map_values_maps_updates_and_passes_tombstones():
    out = drive(
        lambda b: (
            b.table("in", key_serde=S, value_serde=INT)
            .map_values(lambda v: v * 10)
            .to_stream()
            .to("out", key_serde=S, value_serde=INT)
        ),
        [("A", 1, 3), ("A", 2, 4), ("A", None, 5)],
        {"out": (S, INT)},
        value_serde=INT,
        config=NO_CACHE,
    )
    assert out["out"] == [("A", 10, 3), ("A", 20, 4), ("A", None, 5)]


def test_materialized_map_values_is_queryable():
    b = StreamsBuilder()
    b.table("in", key_serde=S, value_serde=INT).map_values(
        lambda v: v + 1, store="plus-one", value_serde=INT
    )
    with TopologyTestDriver(b.build()) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=INT)
        t.pipe_input("A", 1, 1)
        t.pipe_input("B", 5, 2)
        t.pipe_input("A", None, 3)
        assert list(d.get_key_value_store("plus-one").all()) == [("B", 6)]


def test_stream_to_table_latest_value_per_key():
    def build(b: StreamsBuilder) -> None:
        b.stream("in", key_serde=S, value_serde=S).to_table(store="latest").to_stream().to(
            "out", key_serde=S, value_serde=S
        )

    b = StreamsBuilder()
    build(b)
    with TopologyTestDriver(b.build(), NO_CACHE) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        for k, v, ts in [
            ("a", "1", 1),
            (None, "x", 2),
            ("a", "2", 3),
            ("b", "3", 4),
            ("a", None, 5),
        ]:
            t.pipe_input(k, v, ts)
        out = d.create_output_topic("out", key_serde=S, value_serde=S)
        assert [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()] == [
            ("a", "1", 1),
            ("a", "2", 3),
            ("b", "3", 4),
            ("a", None, 5),
        ]
        assert dict(d.get_key_value_store("latest").all()) == {"b": "3"}


def test_to_table_after_key_change_repartitions():
    b = StreamsBuilder()
    (
        b.stream("in", key_serde=S, value_serde=S)
        .select_key(lambda k, v: v)
        .to_table(store="by-value", key_serde=S, value_serde=S)
    )
    t = b.build()
    assert list(t.internal_topics) == ["by-value-repartition"]
    with TopologyTestDriver(t) as d:
        d.create_input_topic("in", key_serde=S, value_serde=S).pipe_input("k", "v", 1)
        assert dict(d.get_key_value_store("by-value").all()) == {"v": "v"}


def test_count_then_filter_on_aggregate_output():
    """A filter after an aggregate gets old values from the aggregate (Kafka's behaviour)."""
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .group_by_key()
            .count()
            .filter(lambda k, c: c >= 2)
            .to_stream()
            .to("out", key_serde=S, value_serde=L)
        ),
        [("a", "x", 1), ("a", "x", 2), ("b", "x", 3)],
        {"out": (S, L)},
        config=NO_CACHE,
    )
    assert out["out"] == [("a", 2, 2)]
