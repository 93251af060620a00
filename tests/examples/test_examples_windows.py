"""Exercises 4 (tumbling windows) and 5 (sessions), record by record."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from strom import serdes
from strom.testing import TopologyTestDriver

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
ex4 = importlib.import_module("ex4_tumbling_windows")
ex5 = importlib.import_module("ex5_sessions")

S, J = serdes.String(), serdes.Json()


def test_ex4_counts_per_minute_every_update_and_final():
    with TopologyTestDriver(ex4.topology(), {"application.id": "ex4"}) as d:
        events = d.create_input_topic("events", S, J)
        for seconds, key in [
            (5, "a"),
            (30, "b"),
            (59, "a"),
            (61, "a"),
            (65, "b"),
            (150, "a"),
            (62, "a"),
        ]:  # the last one is 88 s late: past the 10 s grace
            events.pipe_input(None, {"key": key}, timestamp=seconds * 1000)
        updates = d.create_output_topic("windowed-counts-topic", S, J).read_records_to_list()
        final = d.create_output_topic("final-counts-topic", S, J).read_values_to_list()
        store = d.get_window_store(ex4.STORE)
        assert list(store.fetch("a", 0, 200_000)) == [(60_000, 1), (120_000, 1)]
    assert [(r.key, r.value["window_start"], r.value["count"], r.timestamp) for r in updates] == [
        ("a", 0, 1, 5000),
        ("b", 0, 1, 30000),
        ("a", 0, 2, 59000),
        ("a", 60, 1, 61000),
        ("b", 60, 1, 65000),
        ("a", 120, 1, 150000),
    ]
    assert final == [
        {"window_start": 0, "key": "a", "count": 2},
        {"window_start": 0, "key": "b", "count": 1},
        {"window_start": 60, "key": "a", "count": 1},
        {"window_start": 60, "key": "b", "count": 1},
    ]


def test_ex5_sessions_close_after_five_quiet_minutes():
    with TopologyTestDriver(ex5.topology(), {"application.id": "ex5"}) as d:
        activity = d.create_input_topic("activity", S, J)
        for seconds, user in [
            (0, "ann"),
            (60, "ann"),
            (100, "bob"),
            (400, "ann"),
            (350, "ann"),
            (900, "bob"),
            (1300, "ann"),
            (10, "bob"),
        ]:
            activity.pipe_input(user, {"action": "click"}, timestamp=seconds * 1000)
        sessions = d.create_output_topic("sessions-topic", S, J).read_values_to_list()
    # ann@350 comes out of order but in time: [400,400] becomes [350,400]; bob@10 is too late
    assert sessions == [
        {"user_id": "ann", "start": 0, "end": 60, "count": 2},
        {"user_id": "bob", "start": 100, "end": 100, "count": 1},
        {"user_id": "ann", "start": 350, "end": 400, "count": 2},
        {"user_id": "bob", "start": 900, "end": 900, "count": 1},
    ]


def test_ex3b_clicks_join_the_impressions_before_them():
    ex3b = importlib.import_module("ex3b_click_attribution")
    with TopologyTestDriver(ex3b.topology(), {"application.id": "ex3b"}) as d:
        shown = d.create_input_topic("impressions", S, J)
        clicked = d.create_input_topic("clicks", S, J)
        for at, ad in [(0, "ad-1"), (1_000, "ad-2"), (2_000, "ad-1")]:
            shown.pipe_input(ad, {"ad": ad, "at": at}, timestamp=at)
        clicked.pipe_input("ad-1", {"user": "ann", "at": 4_000}, timestamp=4_000)
        clicked.pipe_input("ad-2", {"user": "bob", "at": 12_000}, timestamp=12_000)  # too late
        shown.pipe_input("ad-3", {"ad": "ad-3", "at": 30_000}, timestamp=30_000)
        attributed = d.create_output_topic("attributed-clicks", S, J).read_records_to_list()
        outcomes = d.create_output_topic("impression-outcomes", S, J).read_records_to_list()
    assert [(r.key, r.value, r.timestamp) for r in attributed] == [
        ("ad-1", {"ad": "ad-1", "user": "ann", "delay_ms": 4000}, 4000),
        ("ad-1", {"ad": "ad-1", "user": "ann", "delay_ms": 2000}, 4000),
    ]
    assert [(r.key, r.value["clicked"], r.timestamp) for r in outcomes] == [
        ("ad-1", True, 4000),
        ("ad-1", True, 4000),
        ("ad-2", False, 1000),
    ]
