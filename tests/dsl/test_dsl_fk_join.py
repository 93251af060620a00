"""Foreign-key joins (KIP-213): Kafka's KTableKTableForeignKeyJoinIntegrationTest cases and the
developer guide's table."""

from __future__ import annotations

import logging

import pytest

from kit import NO_CACHE, S
from strom import StreamsBuilder
from strom.testing import TopologyTestDriver


def fk_of(value):
    return value.split("|")[1] if value and "|" in value else None


def run(kind, steps, extractor=fk_of):
    b = StreamsBuilder()
    left = b.table("lhs", key_serde=S, value_serde=S)
    right = b.table("rhs", key_serde=S, value_serde=S)
    getattr(left, kind)(right, extractor, lambda lv, rv: f"({lv},{rv})").to_stream().to(
        "out", key_serde=S, value_serde=S
    )
    got = []
    logging.disable(logging.WARNING)
    try:
        with TopologyTestDriver(b.build(), NO_CACHE) as d:
            topics = {
                "L": d.create_input_topic("lhs", S, S),
                "R": d.create_input_topic("rhs", S, S),
            }
            out = d.create_output_topic("out", S, S)
            for side, key, value in steps:
                topics[side].pipe_input(key, value, 1)
                got.append(out.read_key_values_to_map())
    finally:
        logging.disable(logging.NOTSET)
    return got


BASIC = [
    ("R", "rhs1", "rhsValue1"),
    ("R", "rhs2", "rhsValue2"),
    ("R", "rhs3", "rhsValue3"),
    ("L", "lhs1", "lhsValue1|rhs1"),
    ("L", "lhs2", "lhsValue2|rhs2"),
    ("L", "lhs3", "lhsValue3|rhs1"),
    ("L", "lhs1", None),
    ("R", "rhs1", None),
]


@pytest.mark.parametrize(
    ("kind", "last"),
    [("join", {"lhs3": None}), ("left_join", {"lhs3": "(lhsValue3|rhs1,None)"})],
)
def test_joins_follow_left_and_right_changes(kind, last):
    got = run(kind, BASIC)
    assert got[:3] == [{}, {}, {}]
    assert got[3:7] == [
        {"lhs1": "(lhsValue1|rhs1,rhsValue1)"},
        {"lhs2": "(lhsValue2|rhs2,rhsValue2)"},
        {"lhs3": "(lhsValue3|rhs1,rhsValue1)"},
        {"lhs1": None},
    ]
    assert got[7] == last  # deleting rhs1 reaches lhs3, the only row still subscribed


def test_non_matching_foreign_keys_give_nulls():
    """joinShouldProduceNullsWhenValueHasNonMatchingForeignKey."""
    steps = [
        ("L", "lhs1", "lhsValue1|rhs1"),
        ("L", "lhs1", "lhsValue1|rhs2"),
        ("L", "lhs1", "lhsValue1|rhs3"),
        ("R", "rhs1", "rhsValue1"),
        ("L", "lhs1", "lhsValue1|rhs1"),
        ("L", "lhs1", "lhsValue1|rhs2"),
    ]
    assert run("join", steps) == [
        {},
        {"lhs1": None},
        {"lhs1": None},
        {},
        {"lhs1": "(lhsValue1|rhs1,rhsValue1)"},
        {"lhs1": None},
    ]
    assert run("left_join", steps) == [
        {"lhs1": "(lhsValue1|rhs1,None)"},
        {"lhs1": "(lhsValue1|rhs2,None)"},
        {"lhs1": "(lhsValue1|rhs3,None)"},
        {},
        {"lhs1": "(lhsValue1|rhs1,rhsValue1)"},
        {"lhs1": "(lhsValue1|rhs2,None)"},
    ]


def test_deleting_a_row_that_never_joined_emits_one_tombstone():
    steps = [("L", "lhs1", "lhsValue1|rhs1"), ("L", "lhs1", None), ("L", "lhs1", None)]
    assert run("join", steps)[1:] == [{"lhs1": None}, {}]
    assert run("left_join", steps)[1:] == [{"lhs1": None}, {}]


def test_developer_guide_table():
    """The guide's FK table: the foreign key is the whole left value."""
    steps = [
        ("L", "k", "1"),
        ("R", "1", "foo"),
        ("L", "k", "2"),
        ("L", "k", "3"),
        ("R", "3", "bar"),
        ("L", "k", None),
        ("L", "k", "1"),
        ("L", "q", "10"),
        ("L", "r", "10"),
        ("R", "10", "baz"),
    ]
    inner = run("join", steps, extractor=lambda v: v)
    left = run("left_join", steps, extractor=lambda v: v)
    assert inner == [
        {},
        {"k": "(1,foo)"},
        {"k": None},
        {"k": None},
        {"k": "(3,bar)"},
        {"k": None},
        {"k": "(1,foo)"},
        {},
        {},
        {"q": "(10,baz)", "r": "(10,baz)"},
    ]
    assert left == [
        {"k": "(1,None)"},
        {"k": "(1,foo)"},
        {"k": "(2,None)"},
        {"k": "(3,None)"},
        {"k": "(3,bar)"},
        {"k": None},
        {"k": "(1,foo)"},
        {"q": "(10,None)"},
        {"r": "(10,None)"},
        {"q": "(10,baz)", "r": "(10,baz)"},
    ]
