"""The examples/ programs, checked record by record through the TopologyTestDriver."""

from __future__ import annotations

import importlib
import runpy
import sys
from pathlib import Path

import pytest

import strom
from strom import serdes
from strom.testing import TopologyTestDriver

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

ex1 = importlib.import_module("ex1_stateless")
ex2 = importlib.import_module("ex2_word_count")
ex3 = importlib.import_module("ex3_enrichment")
ex6 = importlib.import_module("ex6_running_stats")
ex7 = importlib.import_module("ex7_branching")
ex8 = importlib.import_module("ex8_stateful_processor")

S = serdes.String()


def records(driver: TopologyTestDriver, topic: str, key_serde=None, value_serde=None) -> list:
    out = driver.create_output_topic(topic, key_serde, value_serde)
    return [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()]


# ---- ex1: map, filter, flatMap -------------------------------------------------------------


def test_ex1_stateless() -> None:
    with TopologyTestDriver(ex1.topology()) as driver:
        orders = driver.create_input_topic("orders")
        orders.pipe_input("a", {"order_id": "o-1", "amount": 250.0, "text": "two books"}, 10)
        orders.pipe_input("b", {"order_id": "o-2", "amount": 1500.0}, 20)
        orders.pipe_input("c", {"order_id": "o-3", "amount": 1000}, 30)  # not > 1000
        orders.pipe_input("d", {"order_id": "o-4", "amount": 4200, "text": "big  TV"}, 40)
        assert records(driver, "high-value-topic") == [
            ("o-2", {"order_id": "o-2", "amount": 1500.0, "processed": True}, 20),
            ("o-4", {"order_id": "o-4", "amount": 4200, "text": "big  TV", "processed": True}, 40),
        ]
        assert records(driver, "words-topic") == [
            ("two", {"word": "two"}, 10),
            ("books", {"word": "books"}, 10),
            ("big", {"word": "big"}, 40),
            ("TV", {"word": "TV"}, 40),
        ]


# ---- ex2: word count -------------------------------------------------------------------------


def test_ex2_word_count() -> None:
    app = strom.App("wordcount", broker="memory://")
    ex2.build(app)
    with TopologyTestDriver(app.topology, config={"application.id": "wordcount"}) as driver:
        lines = driver.create_input_topic("text-input", value_serde=S)
        lines.pipe_input(None, "Hello Kafka, hello!", timestamp=2_000)
        lines.pipe_input("k", "kafka streams", timestamp=1_000)  # out of order
        lines.pipe_input(None, "", timestamp=3_000)
        # a count's timestamp is the max of its inputs' timestamps (as in Kafka Streams)
        assert records(driver, "word-counts", S, serdes.Long()) == [
            ("hello", 1, 2_000),
            ("kafka", 1, 2_000),
            ("hello", 2, 2_000),
            ("kafka", 2, 2_000),
            ("streams", 1, 1_000),
        ]
        store = driver.get_key_value_store("word-counts")
        assert sorted(store.all()) == [("hello", 2), ("kafka", 2), ("streams", 1)]
        assert store.get("kafka") == 2
        assert store.get("missing") is None
        topics = driver.produced_topic_names()
        assert {"wordcount-word-counts-repartition", "wordcount-word-counts-changelog"} <= topics


# ---- ex3: enrichment -------------------------------------------------------------------------


def test_ex3_enrichment() -> None:
    User, Event, Enriched = ex3.User, ex3.Event, ex3.EnrichedEvent
    with TopologyTestDriver(ex3.topology(), config={"application.id": "ex3"}) as driver:
        users = driver.create_input_topic("users", S, serdes.ModelSerde(User))
        events = driver.create_input_topic("events", value_serde=serdes.ModelSerde(Event))
        events.pipe_input("e0", Event("u1", "visit"), timestamp=1)  # before the user is known
        users.pipe_input("u1", User("Ada", "ada@example.com"), timestamp=2)
        events.pipe_input("e1", Event("u1", "login"), timestamp=3)
        events.pipe_input("e2", Event("u2", "click"), timestamp=4)
        users.pipe_input("u1", User("Ada L."), timestamp=5)
        events.pipe_input("e3", Event("u1", "logout"), timestamp=6)
        users.pipe_input("u1", None, timestamp=7)  # tombstone: the user is deleted
        events.pipe_input("e4", Event("u1", "login"), timestamp=8)
        assert records(driver, "enriched-events-topic", S, serdes.ModelSerde(Enriched)) == [
            ("u1", Enriched("u1", "visit", None), 1),
            ("u1", Enriched("u1", "login", "Ada"), 3),
            ("u2", Enriched("u2", "click", None), 4),
            ("u1", Enriched("u1", "logout", "Ada L."), 6),
            ("u1", Enriched("u1", "login", None), 8),
        ]
        users.pipe_input("u2", User("Bob"), timestamp=9)
        assert driver.get_key_value_store("users").get("u2") == User("Bob")
        assert driver.get_key_value_store("users").get("u1") is None
        assert "ex3-events-by-user-repartition" in driver.produced_topic_names()


# ---- ex6: running statistics -----------------------------------------------------------------


def test_ex6_running_stats() -> None:
    Sale, Stats = ex6.Sale, ex6.ProductStats
    with TopologyTestDriver(ex6.topology()) as driver:
        sales = driver.create_input_topic("sales", value_serde=serdes.ModelSerde(Sale))
        sales.pipe_input("s1", Sale("p1", 10.0), timestamp=100)
        sales.pipe_input("s2", Sale("p2", 99.5), timestamp=200)
        sales.pipe_input("s3", Sale("p1", 30), timestamp=300)
        sales.pipe_input("s4", Sale("p1", 5.0), timestamp=250)
        assert records(driver, "product-stats-topic", S, serdes.ModelSerde(Stats)) == [
            ("p1", Stats("p1", 1, 10.0, 10.0), 100),
            ("p2", Stats("p2", 1, 99.5, 99.5), 200),
            ("p1", Stats("p1", 2, 40.0, 20.0), 300),
            ("p1", Stats("p1", 3, 45.0, 15.0), 300),
        ]
        assert driver.get_key_value_store("product-stats").get("p2") == Stats("p2", 1, 99.5, 99.5)


# ---- ex7: branching --------------------------------------------------------------------------

EVENTS = [
    ("e1", {"category": "error", "msg": "disk full"}, 1),
    ("e2", {"category": "warning", "msg": "slow"}, 2),
    ("e3", {"msg": "no category"}, 3),
    ("e4", {"category": "info", "msg": "started"}, 4),
    ("e5", {"category": "error", "msg": "again"}, 5),
]
EXPECTED = {
    "error-topic": [EVENTS[0], EVENTS[4]],
    "warning-topic": [EVENTS[1]],
    "info-topic": [EVENTS[2], EVENTS[3]],
}


def route(variant: str, events: list) -> dict[str, list]:
    with TopologyTestDriver(ex7.topology(variant)) as driver:
        source = driver.create_input_topic("events")
        for key, value, ts in events:
            source.pipe_input(key, value, timestamp=ts)
        return {t: records(driver, t) for t in driver.produced_topic_names()}


@pytest.mark.parametrize("variant", ["split", "extractor"])
def test_ex7_routes_by_category(variant: str) -> None:
    assert route(variant, EVENTS) == EXPECTED


def test_ex7_unknown_category() -> None:
    debug = [("e6", {"category": "debug", "msg": "x"}, 6)]
    assert route("split", debug) == {"info-topic": debug}  # the default branch
    assert route("extractor", debug) == {"debug-topic": debug}  # a topic per category


def test_ex7_extractor_sees_record_context() -> None:
    seen = []

    def topic_for(key, value, ctx):
        seen.append((key, ctx.topic, ctx.offset, ctx.timestamp))
        return ex7.topic_for(key, value, ctx)

    builder = strom.StreamsBuilder()
    builder.stream("events").to(topic_for)
    with TopologyTestDriver(builder.build()) as driver:
        driver.create_input_topic("events").pipe_input("e1", {"category": "error"}, 42)
        assert records(driver, "error-topic") == [("e1", {"category": "error"}, 42)]
    assert seen == [("e1", "events", 0, 42)]


# ---- ex8: Processor API with a persistent store ----------------------------------------------


def test_ex8_state_and_wall_clock_summary(tmp_path: Path) -> None:
    config = {"state.dir": str(tmp_path), "application.id": "ex8"}
    with TopologyTestDriver(ex8.topology(), config=config) as driver:
        activity = driver.create_input_topic("activity", key_serde=S)
        activity.pipe_input("alice", {"action": "login"}, timestamp=1_000)
        activity.pipe_input("bob", {"action": "click"}, timestamp=1_500)
        activity.pipe_input("alice", {"action": "logout"}, timestamp=900)
        assert records(driver, "activity-state", S) == [
            ("alice", {"count": 1, "last_seen": 1_000}, 1_000),
            ("bob", {"count": 1, "last_seen": 1_500}, 1_500),
            ("alice", {"count": 2, "last_seen": 1_000}, 900),  # late: last_seen stays
        ]
        summary = driver.create_output_topic("activity-summary", S)
        driver.advance_wall_clock_time(59_999)
        assert summary.is_empty()
        driver.advance_wall_clock_time(1)
        assert records(driver, "activity-summary", S) == [
            ("summary", {"keys": 2, "events": 3}, 60_000)
        ]
        driver.advance_wall_clock_time(60_000)
        assert records(driver, "activity-summary", S) == [
            ("summary", {"keys": 2, "events": 3}, 120_000)
        ]
        store = driver.get_key_value_store(ex8.STORE)
        assert store.get("alice") == {"count": 2, "last_seen": 1_000}

    # a restart with the same state.dir reopens the RocksDB store: counts continue
    with TopologyTestDriver(ex8.topology(), config=config) as driver:
        assert driver.get_key_value_store(ex8.STORE).get("bob") == {"count": 1, "last_seen": 1_500}
        driver.create_input_topic("activity", key_serde=S).pipe_input("bob", {}, timestamp=5_000)
        assert records(driver, "activity-state", S) == [
            ("bob", {"count": 2, "last_seen": 5_000}, 5_000)
        ]
        driver.advance_wall_clock_time(60_000)
        assert records(driver, "activity-summary", S) == [
            ("summary", {"keys": 2, "events": 4}, 60_000)
        ]


# ---- the demos run -----------------------------------------------------------------------------


@pytest.mark.parametrize("module", [ex1, ex2, ex3, ex6, ex7, ex8], ids=lambda m: m.__name__)
def test_demo_runs(module, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(module.__file__, run_name="__main__")
    assert capsys.readouterr().out.strip()
