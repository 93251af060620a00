"""Exercise 8: stateful processing with a persistent store — the Processor API.

A hand-written ``Processor`` keeps, per key, ``{"count", "last_seen"}`` in the RocksDB
key-value store "activity-store" (the seed's ``shelve`` sample) and emits the new state to
"activity-state" for each event on "activity". ``last_seen`` is the latest event timestamp
(event time, so a replay gives the same state). A wall-clock punctuation emits a summary
``{"keys", "events"}`` to "activity-summary" every minute. The store lives under ``state.dir``,
so a restarted application continues counting where it stopped.

The topology is wired by hand (``Topology.add_source/add_processor/add_state_store/add_sink``)
so the processor can send states and summaries to different sinks with ``forward(child_name=)``.

Run the demo: ``.venv/bin/python examples/ex8_stateful_processor.py``.
"""

from __future__ import annotations

from typing import Any

import strom
from strom import serdes
from strom.processor import Processor, ProcessorContext, PunctuationType, Record
from strom.state import Stores
from strom.testing import TopologyTestDriver

STORE = "activity-store"
TRACKER, STATE_SINK, SUMMARY_SINK = "activity-tracker", "state-sink", "summary-sink"
SUMMARY_INTERVAL_MS = 60_000


class ActivityTracker(Processor):
    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(STORE)
        context.schedule(SUMMARY_INTERVAL_MS, PunctuationType.WALL_CLOCK_TIME, self.summarize)

    def process(self, record: Record) -> None:
        state: dict[str, Any] = self.store.get(record.key) or {"count": 0, "last_seen": 0}
        last_seen = max(state["last_seen"], record.timestamp)  # a late event keeps the latest
        state = {"count": state["count"] + 1, "last_seen": last_seen}
        self.store.put(record.key, state)
        self.context.forward(record.with_value(state), child_name=STATE_SINK)

    def summarize(self, timestamp: int) -> None:
        keys = events = 0
        for _key, state in self.store.all():
            keys += 1
            events += state["count"]
        summary = {"keys": keys, "events": events}
        self.context.forward(Record("summary", summary, timestamp), child_name=SUMMARY_SINK)


def topology() -> strom.Topology:
    key, value = serdes.String(), serdes.Json()
    store = Stores.key_value_store_builder(Stores.persistent_key_value_store(STORE), key, value)
    return (
        strom.Topology()
        .add_source("activity-source", "activity", key_serde=key, value_serde=value)
        .add_processor(TRACKER, ActivityTracker, "activity-source")
        .add_state_store(store, TRACKER)
        .add_sink(STATE_SINK, "activity-state", TRACKER, key_serde=key, value_serde=value)
        .add_sink(SUMMARY_SINK, "activity-summary", TRACKER, key_serde=key, value_serde=value)
    )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as state_dir:
        config = {"application.id": "ex8", "state.dir": state_dir}
        for run in (1, 2):  # the second run reopens the RocksDB store the first one left
            with TopologyTestDriver(topology(), config=config) as driver:
                activity = driver.create_input_topic("activity", key_serde=serdes.String())
                activity.pipe_input("alice", {"action": "login"}, timestamp=1_000 * run)
                activity.pipe_input("bob", {"action": "click"}, timestamp=1_500 * run)
                activity.pipe_input("alice", {"action": "logout"}, timestamp=2_000 * run)
                driver.advance_wall_clock_time(SUMMARY_INTERVAL_MS)
                for topic in ("activity-state", "activity-summary"):
                    out = driver.create_output_topic(topic, key_serde=serdes.String())
                    for key, value in out.read_key_values_to_list():
                        print(f"run {run}: {topic}: {key} -> {value}")
