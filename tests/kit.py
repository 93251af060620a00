"""Shared test helpers: build a topology, pipe records, read what comes out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from strom import StreamsBuilder
from strom.serdes import Long, String
from strom.testing import TopologyTestDriver

S, L = String(), Long()
NO_CACHE = {"statestore.cache.max.bytes": 0}


def drive(
    build: Callable[[StreamsBuilder], None],
    inputs: Iterable[tuple[Any, ...]],
    outputs: dict[str, tuple[Any, Any]] | None = None,
    *,
    topic: str = "in",
    key_serde: Any = S,
    value_serde: Any = S,
    config: dict[str, Any] | None = None,
) -> dict[str, list[tuple[Any, Any, int]]]:
    """Build, pipe ``(key, value, timestamp)`` inputs into ``topic``, read each output topic.

    Inputs may also be ``(topic, key, value, timestamp)``. Returns ``{topic: [(k, v, ts)]}``.
    """
    builder = StreamsBuilder(config)
    build(builder)
    cfg = {"application.id": "test-app", "default.dsl.store": "in_memory", **(config or {})}
    with TopologyTestDriver(builder.build(), cfg) as driver:
        topics: dict[str, Any] = {}
        outs = {
            name: driver.create_output_topic(name, key_serde=ks, value_serde=vs)
            for name, (ks, vs) in (outputs or {"out": (S, S)}).items()
        }
        for item in inputs:
            t, k, v, ts = item if len(item) == 4 else (topic, *item)
            if t not in topics:
                topics[t] = driver.create_input_topic(
                    t, key_serde=key_serde, value_serde=value_serde
                )
            topics[t].pipe_input(k, v, ts)
        return {
            name: [(r.key, r.value, r.timestamp) for r in o.read_records_to_list()]
            for name, o in outs.items()
        }
