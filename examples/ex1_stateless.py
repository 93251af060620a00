"""Exercise 1: stateless transformations — map, filter and flatMap.

Orders arrive on "orders" as JSON objects (the default serde), keyed by anything:

- map: every order is re-keyed by its ``order_id`` and marked ``processed``;
- filter: orders with ``amount > 1000`` go to "high-value-topic";
- flatMap: the words of an order's ``text`` field go to "words-topic", one ``{"word": ...}`` each.

Run the demo: ``.venv/bin/python examples/ex1_stateless.py``.
"""

from __future__ import annotations

from typing import Any

import strom
from strom.testing import TopologyTestDriver

HIGH_VALUE = 1000


def mark_processed(_key: Any, order: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """map: key by order id, add ``processed: True``."""
    return order.get("order_id"), {**order, "processed": True}


def words(_key: Any, order: dict[str, Any]) -> list[tuple[Any, dict[str, str]]]:
    """flatMap: one ``(word, {"word": word})`` record per word of ``text`` (none without it)."""
    return [(word, {"word": word}) for word in str(order.get("text", "")).split()]


def build(builder: strom.StreamsBuilder) -> None:
    """Add the exercise's operators to ``builder`` (a StreamsBuilder or an App)."""
    orders = builder.stream("orders")
    processed = orders.map(mark_processed)
    processed.filter(lambda _k, order: order.get("amount", 0) > HIGH_VALUE).to("high-value-topic")
    orders.flat_map(words).to("words-topic")


def topology() -> strom.Topology:
    builder = strom.StreamsBuilder()
    build(builder)
    return builder.build()


if __name__ == "__main__":
    with TopologyTestDriver(topology()) as driver:
        orders = driver.create_input_topic("orders")
        orders.pipe_input(None, {"order_id": "o-1", "amount": 250.0, "text": "two books"})
        orders.pipe_input(None, {"order_id": "o-2", "amount": 1500.0})
        orders.pipe_input(None, {"order_id": "o-3", "amount": 4200.0, "text": "big TV"})
        for topic in ("high-value-topic", "words-topic"):
            for key, value in driver.create_output_topic(topic).read_key_values_to_list():
                print(f"{topic}: {key!r} -> {value}")
