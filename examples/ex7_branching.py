"""Exercise 7: stream branching — route events to "<category>-topic" by their category.

Two ways, same result for the known categories:

- ``build_split``: ``split()`` with one named branch per known category; the default branch
  takes everything else (no category, or an unknown one) to "info-topic";
- ``build_topic_extractor``: ``to()`` with a function choosing the topic per record, as the
  seed's ``producer.send(f'{category}-topic', value)``: any category gets its own topic, and
  a record without one goes to "info-topic".

Run the demo: ``.venv/bin/python examples/ex7_branching.py``.
"""

from __future__ import annotations

from typing import Any

import strom
from strom.testing import TopologyTestDriver

CATEGORIES = ("error", "warning")
DEFAULT = "info"


def category_is(category: str) -> Any:
    return lambda _key, event: event.get("category") == category


def build_split(builder: strom.StreamsBuilder) -> None:
    """Route with ``split().branch(...)``: a branch per known category plus a default."""
    routed = builder.stream("events").split(name="route-")
    for category in CATEGORIES:
        routed = routed.branch(category_is(category), name=category)
    branches = routed.default_branch(name=DEFAULT)
    for name, stream in branches.items():
        stream.to(f"{name.removeprefix('route-')}-topic")


def topic_for(_key: Any, event: dict[str, Any], _record_context: Any) -> str:
    """The topic-choosing function: ``<category>-topic``."""
    return f"{event.get('category', DEFAULT)}-topic"


def build_topic_extractor(builder: strom.StreamsBuilder) -> None:
    """Route with ``to(topic_for)``: the topic is chosen per record."""
    builder.stream("events").to(topic_for)


def topology(variant: str = "split") -> strom.Topology:
    builder = strom.StreamsBuilder()
    (build_split if variant == "split" else build_topic_extractor)(builder)
    return builder.build()


if __name__ == "__main__":
    events = [
        ("e1", {"category": "error", "msg": "disk full"}),
        ("e2", {"category": "warning", "msg": "slow"}),
        ("e3", {"msg": "no category"}),
        ("e4", {"category": "debug", "msg": "unknown category"}),
    ]
    for variant in ("split", "extractor"):
        with TopologyTestDriver(topology(variant)) as driver:
            driver.create_input_topic("events").pipe_key_value_list(events)
            for topic in sorted(driver.produced_topic_names()):
                pairs = driver.create_output_topic(topic).read_key_values_to_list()
                print(f"{variant}: {topic}: {pairs}")
