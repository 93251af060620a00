"""Exercise 4: count events per key in 1-minute tumbling windows.

Events on "events" (JSON with a ``key`` field, event time in the record timestamp) are grouped
by that key and counted in 1-minute windows ([start, start + 60 s)), with 10 s of grace for
late events. Two outputs:

- "windowed-counts-topic": every update, as the seed's sample sends it:
  ``{"window_start": ..., "key": ..., "count": ...}``;
- "final-counts-topic": one final count per window, once the window has closed
  (``suppress(Suppressed.until_window_closes(...))``).

Run the demo: ``.venv/bin/python examples/ex4_tumbling_windows.py``.
"""

from __future__ import annotations

from datetime import timedelta

import strom
from strom import Suppressed, TimeWindows, serdes
from strom.testing import TopologyTestDriver

WINDOW = TimeWindows.of_size_and_grace(timedelta(minutes=1), timedelta(seconds=10))
STORE = "counts-per-minute"


def as_row(windowed: strom.Windowed, count: int) -> tuple[str, dict]:
    return windowed.key, {
        "window_start": windowed.window.start // 1000,  # seconds, as the seed's sample
        "key": windowed.key,
        "count": count,
    }


def build(builder: strom.StreamsBuilder) -> strom.KTable:
    counts = (
        builder.stream("events", key_serde=serdes.String(), value_serde=serdes.Json())
        .group_by(lambda _k, event: event["key"], key_serde=serdes.String())
        .windowed_by(WINDOW)
        .count(store=STORE)
    )
    counts.to_stream().map(as_row).to(
        "windowed-counts-topic", key_serde=serdes.String(), value_serde=serdes.Json()
    )
    counts.suppress(
        Suppressed.until_window_closes(Suppressed.BufferConfig.unbounded())
    ).to_stream().map(as_row).to(
        "final-counts-topic", key_serde=serdes.String(), value_serde=serdes.Json()
    )
    return counts


def topology() -> strom.Topology:
    builder = strom.StreamsBuilder()
    build(builder)
    return builder.build()


if __name__ == "__main__":
    with TopologyTestDriver(topology(), {"application.id": "ex4"}) as driver:
        events = driver.create_input_topic("events", serdes.String(), serdes.Json())
        for seconds, key in [(5, "a"), (30, "b"), (59, "a"), (61, "a"), (65, "b"), (150, "a")]:
            events.pipe_input(None, {"key": key}, timestamp=seconds * 1000)
        for topic in ("windowed-counts-topic", "final-counts-topic"):
            print(topic)
            out = driver.create_output_topic(topic, serdes.String(), serdes.Json())
            for value in out.read_values_to_list():
                print("   ", value)
