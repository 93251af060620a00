"""cogroup (KIP-150): Kafka's CogroupedKStreamImplTest / TimeWindowedCogroupedKStreamImplTest."""

from __future__ import annotations

import pytest

from kit import NO_CACHE, S
from strom import StreamsBuilder, TimeWindows
from strom.core.errors import TopologyError
from strom.testing import TopologyTestDriver


def run(windows, inputs):
    b = StreamsBuilder()
    g1 = b.stream("t", key_serde=S, value_serde=S).group_by_key()
    g2 = b.stream("t2", key_serde=S, value_serde=S).group_by_key()
    co = g1.cogroup(lambda k, v, a: f"{a}+{v}").cogroup(g2, lambda k, v, a: f"{a}-{v}")
    if windows is not None:
        co = co.windowed_by(windows)
    table = co.aggregate(lambda: "0", store="agg", value_serde=S)
    stream = table.to_stream()
    if windows is not None:
        stream = stream.map(lambda k, v: (k.key, v))
    stream.to("out", key_serde=S, value_serde=S)
    with TopologyTestDriver(b.build(), NO_CACHE) as d:
        topics = {n: d.create_input_topic(n, key_serde=S, value_serde=S) for n in ("t", "t2")}
        for topic, k, v, ts in inputs:
            topics[topic].pipe_input(k, v, ts)
        return [
            (r.key, r.value, r.timestamp)
            for r in d.create_output_topic("out", S, S).read_records_to_list()
        ]


MIX = [
    ("t", "k1", "A", 0),
    ("t", "k2", "A", 0),
    ("t", "k2", "A", 1),
    ("t", "k1", "A", 2),
    ("t2", "k1", "B", 3),
    ("t2", "k2", "B", 3),
]


@pytest.mark.parametrize("windows", [None, TimeWindows.of_size_with_no_grace(500)])
def test_mixed_aggregators(windows):
    out = run(windows, [*MIX, ("t2", "k2", "B", 4), ("t2", "k1", "B", 4)])
    assert out == [
        ("k1", "0+A", 0),
        ("k2", "0+A", 0),
        ("k2", "0+A+A", 1),
        ("k1", "0+A+A", 2),
        ("k1", "0+A+A-B", 3),
        ("k2", "0+A+A-B", 3),
        ("k2", "0+A+A-B-B", 4),
        ("k1", "0+A+A-B-B", 4),
    ]


def test_mixed_aggregators_across_windows():
    out = run(
        TimeWindows.of_size_with_no_grace(500),
        [*MIX, ("t2", "k2", "B", 501), ("t2", "k1", "B", 501)],
    )
    assert out[-4:] == [
        ("k1", "0+A+A-B", 3),
        ("k2", "0+A+A-B", 3),
        ("k2", "0-B", 501),
        ("k1", "0-B", 501),
    ]


def test_cogroup_errors_are_clear():
    b = StreamsBuilder()
    g = b.stream("t").group_by_key()
    with pytest.raises(TopologyError, match="cogroup\\(\\) takes a KGroupedStream"):
        g.cogroup(lambda k, v, a: a).cogroup(None, lambda k, v, a: a)
    with pytest.raises(TopologyError, match="added only once"):
        g.cogroup(lambda k, v, a: a).cogroup(g, lambda k, v, a: a)
