"""Joins: the Kafka Streams developer guide's semantics tables and Kafka's join tests, exactly."""

from __future__ import annotations

import logging

import pytest

from kit import NO_CACHE, S
from strom import JoinWindows, StreamsBuilder
from strom.core.errors import TopologyError
from strom.testing import TopologyTestDriver

# The developer guide's input: one key, timestamps 1..15 (None = a null value)
GUIDE = [
    (1, "L", None),
    (2, "R", None),
    (3, "L", "A"),
    (4, "R", "a"),
    (5, "L", "B"),
    (6, "R", "b"),
    (7, "L", None),
    (8, "R", None),
    (9, "L", "C"),
    (10, "R", "c"),
    (11, "R", None),
    (12, "L", None),
    (13, "R", None),
    (14, "R", "d"),
    (15, "L", "D"),
]


def join_str(a, b):
    return f"[{a},{b}]"


def run_rows(build, rows, key="k", config=NO_CACHE):
    """Pipe (ts, side, value) rows; return {ts: [(value, ts)]} of what each row produced."""
    b = StreamsBuilder()
    build(b)
    out: dict[int, list] = {}
    logging.disable(logging.WARNING)
    try:
        with TopologyTestDriver(b.build(), config) as d:
            topics = {
                "L": d.create_input_topic("left", S, S),
                "R": d.create_input_topic("right", S, S),
            }
            result = d.create_output_topic("out", S, S)
            for ts, side, value in rows:
                topics[side].pipe_input(key, value, ts)
                got = [(r.value, r.timestamp) for r in result.read_records_to_list()]
                if got:
                    out[ts] = got
    finally:
        logging.disable(logging.NOTSET)
    return out


def streams(kind, windows):
    def build(b):
        left = b.stream("left", key_serde=S, value_serde=S)
        right = b.stream("right", key_serde=S, value_serde=S)
        getattr(left, kind)(right, join_str, windows).to("out", key_serde=S, value_serde=S)

    return build


INNER_ROWS = {
    4: [("[A,a]", 4)],
    5: [("[B,a]", 5)],
    6: [("[A,b]", 6), ("[B,b]", 6)],
    9: [("[C,a]", 9), ("[C,b]", 9)],
    10: [("[A,c]", 10), ("[B,c]", 10), ("[C,c]", 10)],
    14: [("[A,d]", 14), ("[B,d]", 14), ("[C,d]", 14)],
    15: [("[D,a]", 15), ("[D,b]", 15), ("[D,c]", 15), ("[D,d]", 15)],
}
LATER = [(40, "L", "E"), (60, "L", "F"), (80, "R", "f"), (100, "L", "G")]


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("join", {}),
        ("left_join", {60: [("[E,None]", 40)], 80: [("[F,None]", 60)]}),
        ("outer_join", {60: [("[E,None]", 40)], 80: [("[F,None]", 60)], 100: [("[None,f]", 80)]}),
    ],
)
def test_stream_stream_guide_table(kind, extra):
    """Developer guide 7.1 (KIP-633): unmatched results only after their window closed."""
    got = run_rows(streams(kind, JoinWindows.of_time_difference_with_no_grace(15)), GUIDE + LATER)
    assert got == {**INNER_ROWS, **extra}


def test_outer_join_duplicates_right_side_first_at_equal_times():
    """KStreamKStreamOuterJoinTest.testOuterJoinDuplicates (100 ms, grace 10)."""

    def build(b):
        left = b.stream("left", key_serde=S, value_serde=S)
        right = b.stream("right", key_serde=S, value_serde=S)
        left.outer_join(
            right, lambda a, c: f"{a}+{c}", JoinWindows.of_time_difference_and_grace(100, 10)
        ).to("out", key_serde=S, value_serde=S)

    b = StreamsBuilder()
    build(b)
    with TopologyTestDriver(b.build(), NO_CACHE) as d:
        left, right = d.create_input_topic("left", S, S), d.create_input_topic("right", S, S)
        out = d.create_output_topic("out", S, S)
        left.pipe_input("0", "A0", 0)
        left.pipe_input("0", "A0-0", 0)
        right.pipe_input("1", "a1", 0)
        right.pipe_input("1", "a1-0", 0)
        right.pipe_input("1", "a0", 111)
        right.pipe_input("3", "dummy", 211)
        assert [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()] == [
            ("1", "None+a1", 0),
            ("1", "None+a1-0", 0),
            ("0", "A0+None", 0),
            ("0", "A0-0+None", 0),
        ]
        left.pipe_input("2", "A2", 200)
        left.pipe_input("2", "A2-0", 200)
        right.pipe_input("2", "a2", 201)
        right.pipe_input("2", "a2-0", 201)
        assert [r.value for r in out.read_records_to_list()] == [
            "A2+a2",
            "A2-0+a2",
            "A2+a2-0",
            "A2-0+a2-0",
        ]
        right.pipe_input("3", "dummy", 1500)
        assert [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()] == [
            ("1", "None+a0", 111),
            ("3", "None+dummy", 211),
        ]


def test_asymmetric_windows_after():
    """KStreamKStreamJoinTest.testAsymmetricWindowingAfter: ofTimeDifferenceWithNoGrace(0)
    .after(100)."""

    def build(b):
        left = b.stream("left", key_serde=S, value_serde=S)
        right = b.stream("right", key_serde=S, value_serde=S)
        left.join(
            right,
            lambda a, c: f"{a}+{c}",
            JoinWindows.of_time_difference_with_no_grace(0).after(100),
        ).to("out", key_serde=S, value_serde=S)

    b = StreamsBuilder()
    build(b)
    with TopologyTestDriver(b.build(), NO_CACHE) as d:
        left, right = d.create_input_topic("left", S, S), d.create_input_topic("right", S, S)
        out = d.create_output_topic("out", S, S)
        for i in range(4):
            left.pipe_input(str(i), f"A{i}", 1000 + i)
        got = {}
        for ts, letter in [
            (999, "a"),
            (1000, "b"),
            (1001, "c"),
            (1002, "d"),
            (1003, "e"),
            (1100, "f"),
            (1101, "g"),
            (1102, "h"),
            (1103, "i"),
        ]:
            for i in range(4):
                right.pipe_input(str(i), f"{letter}{i}", ts)
            got[ts] = [r.value for r in out.read_records_to_list()]
    assert got == {
        999: [],
        1000: ["A0+b0"],
        1001: ["A0+c0", "A1+c1"],
        1002: ["A0+d0", "A1+d1", "A2+d2"],
        1003: ["A0+e0", "A1+e1", "A2+e2", "A3+e3"],
        1100: ["A0+f0", "A1+f1", "A2+f2", "A3+f3"],
        1101: ["A1+g1", "A2+g2", "A3+g3"],
        1102: ["A2+h2", "A3+h3"],
        1103: ["A3+i3"],
    }


def test_left_join_passes_null_key_records_on_unmatched():
    """KIP-962: a left join's null-key left records come out joined with None, at once."""
    got = run_rows(
        streams("left_join", JoinWindows.of_time_difference_with_no_grace(10)),
        [(16, "L", "E"), (17, "R", "e")],
        key=None,
    )
    assert got == {16: [("[E,None]", 16)]}


# ---- stream-table --------------------------------------------------------------------------
def stream_table(kind):
    def build(b):
        table = b.table("right", key_serde=S, value_serde=S)
        getattr(b.stream("left", key_serde=S, value_serde=S), kind)(table, join_str).to(
            "out", key_serde=S, value_serde=S
        )

    return build


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("join", {5: [("[B,a]", 5)], 15: [("[D,d]", 15)]}),
        (
            "left_join",
            {3: [("[A,None]", 3)], 5: [("[B,a]", 5)], 9: [("[C,None]", 9)], 15: [("[D,d]", 15)]},
        ),
    ],
)
def test_stream_table_guide_table(kind, expected):
    """Developer guide 7.2: a lookup at the stream record's time; table updates emit nothing."""
    assert run_rows(stream_table(kind), GUIDE) == expected


# ---- table-table ---------------------------------------------------------------------------
def tables(kind):
    def build(b):
        left = b.table("left", key_serde=S, value_serde=S)
        right = b.table("right", key_serde=S, value_serde=S)
        getattr(left, kind)(right, lambda a, c: f"{a}-{c}").to_stream().to(
            "out", key_serde=S, value_serde=S
        )

    return build


TABLE_EXPECTED = {
    "join": {
        4: [("A-a", 4)],
        5: [("B-a", 5)],
        6: [("B-b", 6)],
        7: [(None, 7)],
        10: [("C-c", 10)],
        11: [(None, 11)],
        15: [("D-d", 15)],
    },
    "left_join": {
        3: [("A-None", 3)],
        4: [("A-a", 4)],
        5: [("B-a", 5)],
        6: [("B-b", 6)],
        7: [(None, 7)],
        9: [("C-None", 9)],
        10: [("C-c", 10)],
        11: [("C-None", 11)],
        12: [(None, 12)],
        15: [("D-d", 15)],
    },
    "outer_join": {
        3: [("A-None", 3)],
        4: [("A-a", 4)],
        5: [("B-a", 5)],
        6: [("B-b", 6)],
        7: [("None-b", 7)],
        8: [(None, 8)],
        9: [("C-None", 9)],
        10: [("C-c", 10)],
        11: [("C-None", 11)],
        12: [(None, 12)],
        14: [("None-d", 14)],
        15: [("D-d", 15)],
    },
}


@pytest.mark.parametrize("kind", ["join", "left_join", "outer_join"])
def test_table_table_guide_table(kind):
    """Developer guide 7.3 / TableTableJoinIntegrationTest (caching off)."""
    assert run_rows(tables(kind), GUIDE) == TABLE_EXPECTED[kind]


OUT_OF_ORDER = [
    (7, "R", "d"),
    (6, "L", "D"),
    (2, "L", None),
    (3, "R", None),
    (14, "R", "e"),
    (15, "L", "E"),
    (10, "L", None),
    (9, "R", None),
    (4, "L", "F"),
    (3, "R", "f"),
]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "join",
            [
                [],
                [("D-d", 7)],
                [(None, 7)],
                [],
                [],
                [("E-e", 15)],
                [(None, 14)],
                [],
                [],
                [("F-f", 4)],
            ],
        ),
        (
            "left_join",
            [
                [],
                [("D-d", 7)],
                [(None, 7)],
                [],
                [],
                [("E-e", 15)],
                [(None, 14)],
                [],
                [("F-None", 4)],
                [("F-f", 4)],
            ],
        ),
        (
            "outer_join",
            [
                [("None-d", 7)],
                [("D-d", 7)],
                [("None-d", 7)],
                [(None, 3)],
                [("None-e", 14)],
                [("E-e", 15)],
                [("None-e", 14)],
                [(None, 9)],
                [("F-None", 4)],
                [("F-f", 4)],
            ],
        ),
    ],
)
def test_table_table_out_of_order_updates(kind, expected):
    """AbstractJoinIntegrationTest's out-of-order rows: the output takes the later timestamp."""
    b = StreamsBuilder()
    tables(kind)(b)
    logging.disable(logging.WARNING)
    try:
        with TopologyTestDriver(b.build(), NO_CACHE) as d:
            topics = {
                "L": d.create_input_topic("left", S, S),
                "R": d.create_input_topic("right", S, S),
            }
            out = d.create_output_topic("out", S, S)
            for ts, side, value in GUIDE[:13]:
                topics[side].pipe_input("k", value, ts)
            out.read_records_to_list()
            got = []
            for ts, side, value in OUT_OF_ORDER:
                topics[side].pipe_input("k", value, ts)
                got.append([(r.value, r.timestamp) for r in out.read_records_to_list()])
    finally:
        logging.disable(logging.NOTSET)
    assert got == expected


def test_join_errors_are_clear():
    b = StreamsBuilder()
    s = b.stream("s")
    with pytest.raises(TopologyError, match="needs a joiner"):
        s.join(b.table("t"), None)
    with pytest.raises(TopologyError, match="needs JoinWindows"):
        s.join(b.stream("s2"), join_str, 10)
    with pytest.raises(TopologyError, match="outer_join\\(\\) is for two streams or two tables"):
        s.outer_join(b.table("t2"), join_str)
