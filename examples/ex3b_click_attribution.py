"""Exercise 3, the stream-stream way: clicks joined to the impressions they follow.

Ad impressions on "impressions" and clicks on "clicks" are both keyed by ad id. A click counts
for an impression of the same ad shown at most 10 seconds before it (``JoinWindows`` of 10 s
before and 0 after, 5 s of grace for late records). The inner join writes each attributed
click to "attributed-clicks"; a left join of impressions writes, for every impression, either
its click or — once its window has closed with no click — ``clicked: False`` to
"impression-outcomes" (no premature "not clicked" results: KIP-633).

Run the demo: ``.venv/bin/python examples/ex3b_click_attribution.py``.
"""

from __future__ import annotations

from datetime import timedelta

import strom
from strom import JoinWindows, serdes
from strom.testing import TopologyTestDriver

WINDOW = (
    JoinWindows.of_time_difference_and_grace(timedelta(seconds=10), timedelta(seconds=5))
    .before(timedelta(seconds=10))
    .after(0)
)


def build(builder: strom.StreamsBuilder) -> None:
    s, j = serdes.String(), serdes.Json()
    impressions = builder.stream("impressions", key_serde=s, value_serde=j)
    clicks = builder.stream("clicks", key_serde=s, value_serde=j)
    # a click at t joins impressions shown in [t - 10 s, t]
    clicks.join(
        impressions,
        lambda click, shown: {
            "ad": shown["ad"],
            "user": click["user"],
            "delay_ms": click["at"] - shown["at"],
        },
        WINDOW,
        name="attribution",
    ).to("attributed-clicks", key_serde=s, value_serde=j)
    # every impression, clicked within 10 s after it or not
    impressions.left_join(
        clicks,
        lambda shown, click: {"ad": shown["ad"], "clicked": click is not None},
        JoinWindows.of_time_difference_and_grace(
            timedelta(seconds=10), timedelta(seconds=5)
        ).before(0),
        name="outcomes",
    ).to("impression-outcomes", key_serde=s, value_serde=j)


def topology() -> strom.Topology:
    builder = strom.StreamsBuilder()
    build(builder)
    return builder.build()


if __name__ == "__main__":
    s, j = serdes.String(), serdes.Json()
    with TopologyTestDriver(topology()) as driver:
        shown = driver.create_input_topic("impressions", s, j)
        clicked = driver.create_input_topic("clicks", s, j)
        for at, ad in [(0, "ad-1"), (1_000, "ad-2")]:
            shown.pipe_input(ad, {"ad": ad, "at": at}, timestamp=at)
        clicked.pipe_input("ad-1", {"user": "ann", "at": 4_000}, timestamp=4_000)
        shown.pipe_input("ad-3", {"ad": "ad-3", "at": 30_000}, timestamp=30_000)  # time moves on
        for topic in ("attributed-clicks", "impression-outcomes"):
            print(topic)
            for key, value in driver.create_output_topic(topic, s, j).read_key_values_to_list():
                print("   ", key, value)
