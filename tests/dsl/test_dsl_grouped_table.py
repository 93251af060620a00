"""KTable.group_by + count/reduce/aggregate: Kafka's KTableAggregateTest cases (default cache)."""

from __future__ import annotations

from kit import L, S, drive
from strom import StreamsBuilder
from strom.testing import TopologyTestDriver


def _agg_out(mapper, inputs, config=None):
    def build(b: StreamsBuilder) -> None:
        (
            b.table("in", key_serde=S, value_serde=S)
            .group_by(mapper, key_serde=S, value_serde=S)
            .aggregate(
                lambda: "0",
                lambda k, v, a: f"{a}+{v}",
                lambda k, v, a: f"{a}-{v}",
                store="agg",
                value_serde=S,
            )
            .to_stream()
            .to("out", key_serde=S, value_serde=S)
        )

    return drive(build, inputs, {"out": (S, S)}, config=config)["out"]


def test_agg_basic_same_group_updates_once():
    """testAggBasic: the key never changes, so old and new arrive as one record."""
    out = _agg_out(
        lambda k, v: (k, v),
        [
            ("A", "1", 10),
            ("B", "2", 15),
            ("A", "3", 20),
            ("B", "4", 18),
            ("C", "5", 5),
            ("D", "6", 25),
            ("B", "7", 15),
            ("C", "8", 10),
        ],
    )
    assert out == [
        ("A", "0+1", 10),
        ("B", "0+2", 15),
        ("A", "0+1-1+3", 20),
        ("B", "0+2-2+4", 18),
        ("C", "0+5", 5),
        ("D", "0+6", 25),
        ("B", "0+2-2+4-4+7", 18),
        ("C", "0+5-5+8", 10),
    ]


def test_agg_repartition_moves_rows_between_groups():
    """testAggRepartition: key "null" maps to a null group, "NULL" to no pair at all."""

    def mapper(k, v):
        if k == "null":
            return (None, v)
        if k == "NULL":
            return None
        return (v, v)

    out = _agg_out(
        mapper,
        [
            ("A", "1", 10),
            ("A", None, 15),
            ("A", "1", 12),
            ("B", "2", 20),
            ("null", "3", 25),
            ("B", "4", 23),
            ("NULL", "5", 24),
            ("B", "7", 22),
        ],
    )
    assert out == [
        ("1", "0+1", 10),
        ("1", "0+1-1", 15),
        ("1", "0+1-1+1", 15),
        ("2", "0+2", 20),
        ("2", "0+2-2", 23),
        ("4", "0+4", 23),
        ("4", "0+4-4", 23),
        ("7", "0+7", 22),
    ]


def test_count_subtracts_from_the_old_group_first():
    """testCount: a row moving from green to blue counts green down, then blue up."""

    def build(b: StreamsBuilder) -> None:
        (
            b.table("in", key_serde=S, value_serde=S)
            .group_by(lambda k, v: (v, k), key_serde=S, value_serde=S)
            .count(store="count")
            .to_stream()
            .to("out", key_serde=S, value_serde=L)
        )

    out = drive(
        build,
        [
            ("A", "green", 10),
            ("B", "green", 9),
            ("A", "blue", 12),
            ("C", "yellow", 15),
            ("D", "green", 11),
        ],
        {"out": (S, L)},
    )["out"]
    assert out == [
        ("green", 1, 10),
        ("green", 2, 10),
        ("green", 1, 12),
        ("blue", 1, 12),
        ("yellow", 1, 15),
        ("green", 2, 12),
    ]


def test_count_goes_to_zero_and_stays():
    b = StreamsBuilder()
    b.table("in", key_serde=S, value_serde=S).group_by(
        lambda k, v: (v, k), key_serde=S, value_serde=S
    ).count(store="count")
    with TopologyTestDriver(b.build()) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        t.pipe_input("A", "green", 1)
        t.pipe_input("A", None, 2)
        assert list(d.get_key_value_store("count").all()) == [("green", 0)]


def test_remove_old_before_add_new():
    """testRemoveOldBeforeAddNew: key "XY" groups to X with value Y."""

    def build(b: StreamsBuilder) -> None:
        (
            b.table("in", key_serde=S, value_serde=S)
            .group_by(lambda k, v: (k[0], k[1] + v), key_serde=S, value_serde=S)
            .aggregate(
                lambda: "",
                lambda k, v, a: a + v[0],
                lambda k, v, a: a.replace(v[0], "", 1),
                store="agg",
                value_serde=S,
            )
            .to_stream()
            .to("out", key_serde=S, value_serde=S)
        )

    out = drive(
        build, [("11", "A", 10), ("12", "B", 8), ("11", None, 12), ("12", "C", 6)], {"out": (S, S)}
    )["out"]
    assert out == [("1", "1", 10), ("1", "12", 10), ("1", "2", 12), ("1", "2", 12)]


def test_no_transient_zero_when_the_group_is_unchanged():
    """testShouldNotSendTransientStateIfNotUpgrading."""

    def build(b: StreamsBuilder) -> None:
        (
            b.table("in", key_serde=S, value_serde=S)
            .group_by(lambda k, v: (k, v), key_serde=S, value_serde=S)
            .count()
            .to_stream()
            .to("out", key_serde=S, value_serde=L)
        )

    out = drive(build, [("1", "", 8), ("1", "", 9)], {"out": (S, L)})["out"]
    assert out == [("1", 1, 8), ("1", 1, 9)]


def test_reduce_with_adder_and_subtractor_sums_by_region():
    def build(b: StreamsBuilder) -> None:
        (
            b.table("users", key_serde=S, value_serde=S)
            .group_by(lambda user, region: (region, 1), key_serde=S, value_serde=L)
            .reduce(lambda a, v: a + v, lambda a, v: a - v, store="per-region")
            .to_stream()
            .to("out", key_serde=S, value_serde=L)
        )

    out = drive(
        build,
        [
            ("users", "alice", "eu", 1),
            ("users", "bob", "eu", 2),
            ("users", "alice", "us", 3),
            ("users", "bob", None, 4),
        ],
        {"out": (S, L)},
    )["out"]
    assert out == [("eu", 1, 1), ("eu", 2, 2), ("eu", 1, 3), ("us", 1, 3), ("eu", 0, 4)]


def test_group_by_repartition_topic_named_after_store():
    b = StreamsBuilder()
    b.table("in").group_by(lambda k, v: (v, k)).count(store="count-store")
    t = b.build()
    assert list(t.internal_topics) == ["count-store-repartition"]
    text = str(t.describe())
    assert "Sink: count-store-repartition-sink (topic: count-store-repartition)" in text
    assert "Source: count-store-repartition-source (topics: [count-store-repartition])" in text
