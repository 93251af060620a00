"""KTable.suppress: Kafka's SuppressScenarioTest cases, exactly."""

from __future__ import annotations

import pytest

from kit import NO_CACHE, S
from strom import SessionWindows, StreamsBuilder, Suppressed, TimeWindows
from strom.core.errors import StreamsError, TopologyError
from strom.serdes import Long
from strom.testing import TopologyTestDriver

L = Long()
BufferConfig = Suppressed.BufferConfig


def wkey(k) -> str:
    return f"[{k.key}@{k.window.start}/{k.window.end}]"


def windowed_run(windows, suppressed, inputs):
    b = StreamsBuilder()
    counts = b.stream("in", key_serde=S, value_serde=S).group_by_key().windowed_by(windows).count()
    counts.to_stream().map(lambda k, v: (wkey(k), v)).to("raw", key_serde=S, value_serde=L)
    counts.suppress(suppressed).to_stream().map(lambda k, v: (wkey(k), v)).to(
        "final", key_serde=S, value_serde=L
    )
    with TopologyTestDriver(b.build(), NO_CACHE) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        for k, ts in inputs:
            t.pipe_input(k, "v", ts)
        read = lambda n: [  # noqa: E731
            (r.key, r.value, r.timestamp)
            for r in d.create_output_topic(n, S, L).read_records_to_list()
        ]
        return read("raw"), read("final")


def test_final_results_for_time_windows():
    raw, final = windowed_run(
        TimeWindows.of_size_and_grace(2, 1),
        Suppressed.until_window_closes(BufferConfig.unbounded()),
        [("k1", 0), ("k1", 1), ("k1", 2), ("k1", 1), ("k1", 0), ("k1", 5), ("k1", 0)],
    )
    assert raw == [
        ("[k1@0/2]", 1, 0),
        ("[k1@0/2]", 2, 1),
        ("[k1@2/4]", 1, 2),
        ("[k1@0/2]", 3, 1),
        ("[k1@0/2]", 4, 1),
        ("[k1@4/6]", 1, 5),
    ]
    assert final == [("[k1@0/2]", 4, 1), ("[k1@2/4]", 1, 2)]


def test_final_results_after_a_large_jump():
    _raw, final = windowed_run(
        TimeWindows.of_size_and_grace(2, 2),
        Suppressed.until_window_closes(BufferConfig.unbounded()),
        [("k1", t) for t in (0, 1, 2, 0, 3, 0, 4, 0, 30)],
    )
    assert final == [("[k1@0/2]", 4, 1), ("[k1@2/4]", 2, 3), ("[k1@4/6]", 1, 4)]


def test_final_results_for_session_windows_wait_for_gap_and_grace():
    raw, final = windowed_run(
        SessionWindows.of_inactivity_gap_with_no_grace(5),
        Suppressed.until_window_closes(BufferConfig.unbounded()),
        [("k1", 0), ("k1", 5), ("k1", 1), ("k2", 11), ("k1", 5), ("k1", 30)],
    )
    assert raw == [
        ("[k1@0/0]", 1, 0),
        ("[k1@0/0]", None, 0),
        ("[k1@0/5]", 2, 5),
        ("[k1@0/5]", None, 5),
        ("[k1@0/5]", 3, 5),
        ("[k2@11/11]", 1, 11),
        ("[k1@30/30]", 1, 30),
    ]
    assert final == [("[k1@0/5]", 3, 5), ("[k2@11/11]", 1, 11)]


def table_run(suppressed, rounds):
    """SuppressScenarioTest's table: count per value, suppressed; one output list per round."""
    b = StreamsBuilder()
    counts = (
        b.table("in", key_serde=S, value_serde=S)
        .group_by(lambda k, v: (v, k), key_serde=S, value_serde=S)
        .count()
    )
    counts.to_stream().to("raw", key_serde=S, value_serde=L)
    counts.suppress(suppressed).to_stream().to("out", key_serde=S, value_serde=L)
    results = []
    with TopologyTestDriver(b.build(), NO_CACHE) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=S)
        out = d.create_output_topic("out", S, L)
        for inputs in rounds:
            for k, v, ts in inputs:
                t.pipe_input(k, v, ts)
            results.append([(r.key, r.value, r.timestamp) for r in out.read_records_to_list()])
    return results


def test_until_time_limit_zero_passes_everything():
    got = table_run(
        Suppressed.until_time_limit(0, BufferConfig.unbounded()),
        [[("k1", "v1", 0), ("k1", "v2", 1), ("k2", "v1", 2)], [("x", "x", 3)], [("x", "y", 4)]],
    )
    assert got == [
        [("v1", 1, 0), ("v1", 0, 1), ("v2", 1, 1), ("v1", 1, 2)],
        [("x", 1, 3)],
        [("x", 0, 4), ("y", 1, 4)],
    ]


def test_until_time_limit_holds_each_key_from_its_first_update():
    got = table_run(
        Suppressed.until_time_limit(2, BufferConfig.unbounded()),
        [
            [("k1", "v1", 0), ("k1", "v2", 1), ("k2", "v1", 2)],
            [("tick", "tick", 3)],
            [("tick", "tock", 4)],
        ],
    )
    assert got == [[("v1", 1, 2)], [("v2", 1, 1)], []]


def test_max_records_emits_early_when_full():
    got = table_run(
        Suppressed.until_time_limit(2**62, BufferConfig.max_records(1).emit_early_when_full()),
        [[("k1", "v1", 0), ("k1", "v2", 1), ("k2", "v1", 2)], [("x", "x", 3)]],
    )
    assert got == [[("v1", 0, 1), ("v2", 1, 1)], [("v1", 1, 2)]]


def test_shut_down_when_full_fails_naming_the_buffer():
    with pytest.raises(StreamsError, match="buffer exceeded its max capacity"):
        table_run(
            Suppressed.until_time_limit(
                2**62, BufferConfig.max_records(1).shut_down_when_full()
            ).with_name("tight"),
            [[("k1", "v1", 0), ("k2", "v2", 1)]],
        )


def test_until_window_closes_needs_a_windowed_table():
    b = StreamsBuilder()
    with pytest.raises(TopologyError, match="only defined for windowed computations"):
        b.table("in").suppress(Suppressed.until_window_closes(BufferConfig.unbounded()))
