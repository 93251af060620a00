"""Windowed aggregations: Kafka's KStreamWindowAggregateTest, KStreamSlidingWindowAggregateTest,
KStreamSessionWindowAggregateProcessorTest and KGroupedStreamImplTest tables, exactly."""

from __future__ import annotations

import logging

import pytest

from kit import NO_CACHE, S
from strom import SessionWindows, SlidingWindows, StreamsBuilder, TimeWindows
from strom.serdes import Long
from strom.testing import TopologyTestDriver
from strom.windows import EmitStrategy

L = Long()


def wkey(k) -> str:
    return f"[{k.key}@{k.window.start}/{k.window.end}]"


def run(build, inputs, config=None, out_serde=S):
    """Pipe (key, value, ts) into "in"; return what reached "out" as (window key, value, ts)."""
    b = StreamsBuilder()
    table = build(b.stream("in", key_serde=S, value_serde=S).group_by_key())
    table.to_stream().map(lambda k, v: (wkey(k), v)).to("out", key_serde=S, value_serde=out_serde)
    cfg = {"application.id": "w", "default.dsl.store": "in_memory", **(config or {})}
    with TopologyTestDriver(b.build(), cfg) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        for k, v, ts in inputs:
            t.pipe_input(k, v, ts)
        out = d.create_output_topic("out", key_serde=S, value_serde=out_serde)
        return [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()], d


AGG_BASIC = [
    ("A", "1", 0),
    ("B", "2", 1),
    ("C", "3", 2),
    ("D", "4", 3),
    ("A", "1", 4),
    ("A", "1", 5),
    ("B", "2", 6),
    ("D", "4", 7),
    ("B", "2", 8),
    ("C", "3", 9),
    ("A", "1", 10),
    ("B", "2", 11),
    ("D", "4", 12),
    ("B", "2", 13),
    ("C", "3", 14),
    ("B", "1", 3),
    ("B", "2", 2),
    ("B", "3", 9),
]


def hopping(agg):
    return agg.windowed_by(TimeWindows.of_size_and_grace(10, 100).advance_by(5)).aggregate(
        lambda: "0", lambda k, v, a: f"{a}+{v}", value_serde=S
    )


@pytest.mark.parametrize("config", [NO_CACHE, {}], ids=["no-cache", "cache"])
def test_hopping_windows_update_per_window_in_start_order(config):
    """KStreamWindowAggregateTest.testAggBasic."""
    out, _ = run(hopping, AGG_BASIC, config)
    assert out == [
        ("[A@0/10]", "0+1", 0),
        ("[B@0/10]", "0+2", 1),
        ("[C@0/10]", "0+3", 2),
        ("[D@0/10]", "0+4", 3),
        ("[A@0/10]", "0+1+1", 4),
        ("[A@0/10]", "0+1+1+1", 5),
        ("[A@5/15]", "0+1", 5),
        ("[B@0/10]", "0+2+2", 6),
        ("[B@5/15]", "0+2", 6),
        ("[D@0/10]", "0+4+4", 7),
        ("[D@5/15]", "0+4", 7),
        ("[B@0/10]", "0+2+2+2", 8),
        ("[B@5/15]", "0+2+2", 8),
        ("[C@0/10]", "0+3+3", 9),
        ("[C@5/15]", "0+3", 9),
        ("[A@5/15]", "0+1+1", 10),
        ("[A@10/20]", "0+1", 10),
        ("[B@5/15]", "0+2+2+2", 11),
        ("[B@10/20]", "0+2", 11),
        ("[D@5/15]", "0+4+4", 12),
        ("[D@10/20]", "0+4", 12),
        ("[B@5/15]", "0+2+2+2+2", 13),
        ("[B@10/20]", "0+2+2", 13),
        ("[C@5/15]", "0+3+3", 14),
        ("[C@10/20]", "0+3", 14),
        ("[B@0/10]", "0+2+2+2+1", 8),
        ("[B@0/10]", "0+2+2+2+1+2", 8),
        ("[B@0/10]", "0+2+2+2+1+2+3", 9),
        ("[B@5/15]", "0+2+2+2+2+3", 13),
    ]


def test_emit_on_window_close_with_a_long_grace_emits_nothing():
    def build(g):
        return (
            g.windowed_by(TimeWindows.of_size_and_grace(10, 100).advance_by(5))
            .emit_strategy(EmitStrategy.on_window_close())
            .aggregate(lambda: "0", lambda k, v, a: f"{a}+{v}", value_serde=S)
        )

    out, _ = run(build, AGG_BASIC)
    assert out == []


def test_windowed_count_keeps_late_records_within_grace():
    """KGroupedStreamImplTest.doCountWindowed: ofSizeAndGrace(500, 100)."""
    data = [
        ("1", "A", 0),
        ("1", "A", 499),
        ("1", "A", 100),
        ("2", "B", 0),
        ("2", "B", 100),
        ("2", "B", 200),
        ("3", "C", 1),
        ("1", "A", 500),
        ("1", "A", 500),
        ("2", "B", 500),
        ("2", "B", 500),
        ("3", "B", 100),
    ]
    b = StreamsBuilder()
    (
        b.stream("in", key_serde=S, value_serde=S)
        .group_by_key()
        .windowed_by(TimeWindows.of_size_and_grace(500, 100))
        .count()
        .to_stream()
        .map(lambda k, v: (wkey(k), v))
        .to("out", key_serde=S, value_serde=L)
    )
    with TopologyTestDriver(b.build(), NO_CACHE) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        for k, v, ts in data:
            t.pipe_input(k, v, ts)
        out = [
            (r.key, r.value, r.timestamp)
            for r in d.create_output_topic("out", S, L).read_records_to_list()
        ]
    assert out == [
        ("[1@0/500]", 1, 0),
        ("[1@0/500]", 2, 499),
        ("[1@0/500]", 3, 499),
        ("[2@0/500]", 1, 0),
        ("[2@0/500]", 2, 100),
        ("[2@0/500]", 3, 200),
        ("[3@0/500]", 1, 1),
        ("[1@500/1000]", 1, 500),
        ("[1@500/1000]", 2, 500),
        ("[2@500/1000]", 1, 500),
        ("[2@500/1000]", 2, 500),
        ("[3@0/500]", 2, 100),
    ]


def test_late_records_are_dropped_logged_and_counted_per_window(caplog):
    """shouldLogAndMeterWhenSkippingExpiredWindow: size 10, advance 5, grace 90."""

    def build(g):
        return g.windowed_by(TimeWindows.of_size_and_grace(10, 90).advance_by(5)).aggregate(
            lambda: "", lambda k, v, a: f"{a}+{v}", value_serde=S
        )

    data = (
        [("k", "100", 100)]
        + [("k", str(i), i) for i in range(7)]
        + [("k", "105", 105), ("k", "106", 106)]
    )
    with caplog.at_level(logging.WARNING, "strom"):
        out, d = run(build, data, NO_CACHE)
    assert out == [
        ("[k@95/105]", "+100", 100),
        ("[k@100/110]", "+100", 100),
        ("[k@5/15]", "+5", 5),
        ("[k@5/15]", "+5+6", 6),
        ("[k@100/110]", "+100+105", 105),
        ("[k@105/115]", "+105", 105),
        ("[k@100/110]", "+100+105+106", 106),
        ("[k@105/115]", "+105+106", 106),
    ]
    assert d.task.metrics.dropped_records == 7
    assert (
        "Skipping record for expired window. topic=[in] partition=[0] offset=[1] "
        "timestamp=[0] window=[0,10) expiration=[10] streamTime=[100]"
    ) in caplog.text


def test_emit_on_window_close_emits_each_window_once():
    """Emit-final processor test: size 10, advance 5, grace 5."""

    def build(g):
        return (
            g.windowed_by(TimeWindows.of_size_and_grace(10, 5).advance_by(5))
            .emit_strategy(EmitStrategy.on_window_close())
            .aggregate(lambda: "0", lambda k, v, a: f"{a}+{v}", value_serde=S)
        )

    out, _ = run(
        build,
        [("A", "1", 0), ("A", "1", 5), ("B", "2", 10), ("C", "3", 15), ("D", "4", 20)],
        {"__emit.interval.ms.kstreams.windowed.aggregation__": 0},
    )
    assert out == [("[A@0/10]", "0+1+1", 5), ("[A@5/15]", "0+1", 5), ("[B@5/15]", "0+2", 10)]


def test_tumbling_count_with_default_serdes_to_a_windowed_topic():
    from strom.serdes import TimeWindowedSerde

    b = StreamsBuilder()
    (
        b.stream("in", key_serde=S, value_serde=S)
        .group_by_key()
        .windowed_by(TimeWindows.of_size_with_no_grace(60_000))
        .count(store="per-minute", retention=120_001)
        .to_stream()
        .to("out", value_serde=L)
    )
    with TopologyTestDriver(b.build()) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        for ts in (0, 59_999, 60_000):
            t.pipe_input("u1", "click", ts)
        out = d.create_output_topic("out", TimeWindowedSerde(S, 60_000), L)
        got = [(wkey(r.key), r.value, r.timestamp) for r in out.read_records_to_list()]
        store = d.get_window_store("per-minute")
        assert list(store.fetch("u1", 0, 60_000)) == [(0, 2), (60_000, 1)]
    assert got == [
        ("[u1@0/60000]", 1, 0),
        ("[u1@0/60000]", 2, 59_999),
        ("[u1@60000/120000]", 1, 60_000),
    ]


# ---- sliding windows ------------------------------------------------------------------------
def _last_per_window(out):
    last = {}
    for k, v, ts in out:
        last[k] = (v, ts)
    return last


def test_sliding_windows_small_input():
    """KStreamSlidingWindowAggregateTest.testAggregateSmallInput (d 10, grace 50)."""

    def build(g):
        return g.windowed_by(SlidingWindows.of_time_difference_and_grace(10, 50)).aggregate(
            lambda: "0", lambda k, v, a: f"{a}+{v}", value_serde=S
        )

    out, _ = run(
        build,
        [("A", "1", 10), ("A", "2", 15), ("A", "3", 20), ("A", "4", 22), ("A", "5", 30)],
        NO_CACHE,
    )
    assert _last_per_window(out) == {
        "[A@0/10]": ("0+1", 10),
        "[A@5/15]": ("0+1+2", 15),
        "[A@10/20]": ("0+1+2+3", 20),
        "[A@11/21]": ("0+2+3", 20),
        "[A@12/22]": ("0+2+3+4", 22),
        "[A@16/26]": ("0+3+4", 22),
        "[A@20/30]": ("0+3+4+5", 30),
        "[A@21/31]": ("0+4+5", 30),
        "[A@23/33]": ("0+5", 30),
    }


def test_sliding_windows_reduce_small_input():
    """KStreamSlidingWindowAggregateTest.testReduceSmallInput."""

    def build(g):
        return g.windowed_by(SlidingWindows.of_time_difference_and_grace(10, 50)).reduce(
            lambda a, b: f"{a}+{b}"
        )

    out, _ = run(
        build,
        [
            ("A", "1", 10),
            ("A", "2", 14),
            ("A", "3", 15),
            ("A", "4", 22),
            ("A", "5", 26),
            ("A", "6", 30),
        ],
        NO_CACHE,
    )
    assert _last_per_window(out) == {
        "[A@0/10]": ("1", 10),
        "[A@4/14]": ("1+2", 14),
        "[A@5/15]": ("1+2+3", 15),
        "[A@11/21]": ("2+3", 15),
        "[A@12/22]": ("2+3+4", 22),
        "[A@15/25]": ("3+4", 22),
        "[A@16/26]": ("4+5", 26),
        "[A@20/30]": ("4+5+6", 30),
        "[A@23/33]": ("5+6", 30),
        "[A@27/37]": ("6", 30),
    }


def test_sliding_windows_count_matches_kafka_sorted():
    """KGroupedStreamImplTest.doCountSlidingWindows (d 500, grace 2000), sorted output."""
    data = [
        ("1", "A", 500),
        ("1", "A", 999),
        ("1", "A", 600),
        ("2", "B", 500),
        ("2", "B", 600),
        ("2", "B", 700),
        ("3", "C", 501),
        ("1", "A", 1000),
        ("1", "A", 1000),
        ("2", "B", 1000),
        ("2", "B", 1000),
        ("3", "B", 600),
    ]

    def build(g):
        return g.windowed_by(SlidingWindows.of_time_difference_and_grace(500, 2000)).count()

    out, _ = run(build, data, NO_CACHE, out_serde=L)
    got = sorted(
        (k[1:].split("@")[0], int(k.split("@")[1].split("/")[0]), v, ts) for k, v, ts in out
    )
    expected = """
    1 0 1 500|1 100 2 600|1 499 2 999|1 499 3 999|1 500 4 1000|1 500 5 1000|1 501 1 999
    1 501 2 999|1 501 3 1000|1 501 4 1000|1 601 1 999|1 601 2 1000|1 601 3 1000|1 1000 1 1000
    1 1000 2 1000|2 0 1 500|2 100 2 600|2 200 3 700|2 500 4 1000|2 500 5 1000|2 501 1 600
    2 501 2 700|2 501 3 1000|2 501 4 1000|2 601 1 700|2 601 2 1000|2 601 3 1000|2 701 1 1000
    2 701 2 1000|3 1 1 501|3 100 2 600|3 502 1 600"""
    rows = [r.split() for r in expected.replace("\n", "|").split("|") if r.strip()]
    assert got == sorted((k, int(s), int(c), int(ts)) for k, s, c, ts in rows)


# ---- session windows -------------------------------------------------------------------------
def test_session_merge_forwards_tombstone_for_replaced_session():
    """shouldImmediatelyForwardRemovedSessionsWhenMerging (gap 5 min, no cache)."""

    def build(g):
        return g.windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(300_000)).count()

    got, _ = run(build, [("a", "x", 0), ("a", "x", 5)], NO_CACHE, out_serde=L)
    assert got == [("[a@0/0]", 1, 0), ("[a@0/0]", None, 0), ("[a@0/5]", 2, 5)]


def test_sessions_merge_and_split_by_gap():
    """KGroupedStreamImplTest session tests (gap 30): last value per session."""

    def build(g):
        return g.windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(30)).reduce(
            lambda a, b: f"{a}:{b}"
        )

    out, _ = run(
        build,
        [
            ("1", "A", 10),
            ("2", "Z", 15),
            ("1", "B", 30),
            ("1", "A", 70),
            ("1", "B", 100),
            ("1", "C", 90),
        ],
        NO_CACHE,
    )
    last = {k: (v, ts) for k, v, ts in out}
    assert {k: v for k, v in last.items() if v[0] is not None} == {
        "[1@10/30]": ("A:B", 30),
        "[2@15/15]": ("Z", 15),
        "[1@70/100]": ("A:B:C", 100),
    }


def test_session_late_record_rule_includes_the_gap(caplog):
    """4.x: a record is late when its session end < stream time - grace - gap."""

    def build(g):
        return g.windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(10)).count()

    b = StreamsBuilder()
    build(b.stream("in", key_serde=S, value_serde=S).group_by_key())
    with caplog.at_level(logging.WARNING, "strom"), TopologyTestDriver(b.build(), NO_CACHE) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        t.pipe_input("k", "x", 11)
        t.pipe_input("j", "x", 0)
        assert d.task.metrics.dropped_records == 1
    assert "timestamp=[0] window=[0,0] expiration=[1] streamTime=[11]" in caplog.text


def test_session_store_fetch_in_driver():
    b = StreamsBuilder()
    (
        b.stream("in", key_serde=S, value_serde=S)
        .group_by_key()
        .windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(5))
        .count(store="sessions", retention=100)
    )
    with TopologyTestDriver(b.build()) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        for ts in (0, 3, 20):
            t.pipe_input("u", "x", ts)
        sessions = [(wkey(w), v) for w, v in d.get_session_store("sessions").fetch("u")]
    assert sessions == [("[u@0/3]", 2), ("[u@20/20]", 1)]
