"""KGroupedStream count/reduce/aggregate: Kafka's KGroupedStreamImplTest cases, exactly."""

from __future__ import annotations

import logging

import pytest

from kit import NO_CACHE, L, S, drive
from strom import StreamsBuilder
from strom.serdes import Json
from strom.testing import TopologyTestDriver

# KGroupedStreamImplTest.processData: ("1","A",5) ("2","B",1) ("1","C",3) ("1","D",10)
# ("3","E",8) ("3","F",9) ("3", null) -- the null value is skipped
DATA = [
    ("1", "A", 5),
    ("2", "B", 1),
    ("1", "C", 3),
    ("1", "D", 10),
    ("3", "E", 8),
    ("3", "F", 9),
    ("3", None, 11),
]


def _final_store(build, config=None):
    b = StreamsBuilder()
    build(b)
    cfg = {"application.id": "agg", **(config or {})}
    with TopologyTestDriver(b.build(), cfg) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        for k, v, ts in DATA:
            t.pipe_input(k, v, ts)
        store = d.get_timestamped_key_value_store("s")
        return {k: (vt.value, vt.timestamp) for k, vt in store.all()}


@pytest.mark.parametrize("config", [NO_CACHE, {}], ids=["no-cache", "cache"])
def test_count_aggregate_reduce_final_state(config):
    count = _final_store(
        lambda b: b.stream("in", key_serde=S, value_serde=S).group_by_key().count(store="s"), config
    )
    assert count == {"1": (3, 10), "2": (1, 1), "3": (2, 9)}
    agg = _final_store(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .group_by_key()
            .aggregate(lambda: "0", lambda k, v, a: f"{a}+{v}", store="s", value_serde=S)
        ),
        config,
    )
    assert agg == {"1": ("0+A+C+D", 10), "2": ("0+B", 1), "3": ("0+E+F", 9)}
    red = _final_store(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .group_by_key()
            .reduce(lambda a, v: f"{a}+{v}", store="s")
        ),
        config,
    )
    assert red == {"1": ("A+C+D", 10), "2": ("B", 1), "3": ("E+F", 9)}


def test_count_emits_one_update_per_record_with_max_timestamp():
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .group_by_key()
            .count()
            .to_stream()
            .to("out", key_serde=S, value_serde=L)
        ),
        DATA,
        {"out": (S, L)},
    )
    assert out["out"] == [
        ("1", 1, 5),
        ("2", 1, 1),
        ("1", 2, 5),
        ("1", 3, 10),
        ("3", 1, 8),
        ("3", 2, 9),
    ]


def test_null_key_and_null_value_are_skipped_logged_and_counted(caplog):
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=S).group_by_key().count(store="s")
    with caplog.at_level(logging.WARNING, "strom"), TopologyTestDriver(b.build()) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        t.pipe_input(None, "x", 1)
        t.pipe_input("k", None, 2)
        t.pipe_input("k", "x", 3)
        assert dict(d.get_key_value_store("s").all()) == {"k": 1}
        assert d.task.metrics.dropped_records == 2
    assert "Skipping record due to null key or value. topic=[in] partition=[0] offset=[0]" in (
        caplog.text
    )


def test_word_count_repartitions_and_drops_null_keys_silently():
    def build(b: StreamsBuilder) -> None:
        (
            b.stream("in", key_serde=S, value_serde=S)
            .flat_map_values(lambda line: line.lower().split())
            .group_by(lambda _, w: None if w == "skip" else w, key_serde=S)
            .count(store="counts")
            .to_stream()
            .to("out", key_serde=S, value_serde=L)
        )

    out = drive(
        build,
        [(None, "Hello world hello", 5), ("x", "skip WORLD", 3)],
        {"out": (S, L), "test-app-counts-repartition": (S, Json())},
    )
    assert out["out"] == [("hello", 1, 5), ("world", 1, 5), ("hello", 2, 5), ("world", 2, 5)]
    # the repartition topic holds the re-keyed words (values in the default serde, Json,
    # since flat_map_values dropped the value serde), minus the null key
    assert out["test-app-counts-repartition"] == [
        ("hello", "hello", 5),
        ("world", "world", 5),
        ("hello", "hello", 5),
        ("world", "world", 3),
    ]


def test_named_grouping_names_the_repartition_topic_and_is_shared():
    def build(b: StreamsBuilder) -> None:
        grouped = b.stream("in", key_serde=S, value_serde=S).group_by(
            lambda k, v: v, key_serde=S, name="by-v"
        )
        grouped.count(store="c1")
        grouped.reduce(lambda a, v: a + v, store="c2")

    b = StreamsBuilder()
    build(b)
    t = b.build()
    assert [n for n in t.internal_topics] == ["by-v-repartition"]
    with TopologyTestDriver(t) as d:
        d.create_input_topic("in", key_serde=S, value_serde=S).pipe_input("k", "a", 1)
        assert dict(d.get_key_value_store("c1").all()) == {"a": 1}
        assert dict(d.get_key_value_store("c2").all()) == {"a": "a"}


def test_aggregate_running_stats_with_json():
    def build(b: StreamsBuilder) -> None:
        (
            b.stream("sales", key_serde=S, value_serde=Json())
            .group_by(lambda k, v: v["product_id"], key_serde=S)
            .aggregate(
                lambda: {"count": 0, "total": 0},
                lambda k, v, a: {"count": a["count"] + 1, "total": a["total"] + v["amount"]},
                store="stats",
            )
            .map_values(lambda a: {**a, "avg": a["total"] / a["count"]})
            .to_stream()
            .to("out", key_serde=S, value_serde=Json())
        )

    out = drive(
        build,
        [
            ("sales", None, {"product_id": "p1", "amount": 10}, 1),
            ("sales", None, {"product_id": "p1", "amount": 20}, 2),
        ],
        {"out": (S, Json())},
        value_serde=Json(),
    )
    assert out["out"] == [
        ("p1", {"count": 1, "total": 10, "avg": 10.0}, 1),
        ("p1", {"count": 2, "total": 30, "avg": 15.0}, 2),
    ]


def test_caching_coalesces_within_a_commit_but_driver_commits_per_record():
    """Each piped record is processed to completion and caches flushed: one update each."""
    out = drive(
        lambda b: (
            b.stream("in", key_serde=S, value_serde=S)
            .group_by_key()
            .count()
            .to_stream()
            .to("out", key_serde=S, value_serde=L)
        ),
        [("a", "x", 1), ("a", "y", 2)],
        {"out": (S, L)},
        config={},
    )
    assert out["out"] == [("a", 1, 1), ("a", 2, 2)]
