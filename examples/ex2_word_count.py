"""Exercise 2: the classic word count.

Lines of text on "text-input" (String values) are split into lower-case words, grouped by word
(a repartition) and counted in the state store "word-counts"; every count update goes to the
"word-counts" topic (String keys, Long values).

Run the demo: ``.venv/bin/python examples/ex2_word_count.py``.
"""

from __future__ import annotations

import re

import strom
from strom import serdes
from strom.testing import TopologyTestDriver

WORD = re.compile(r"\w+")
INPUT, OUTPUT, STORE = "text-input", "word-counts", "word-counts"


def build(builder: strom.StreamsBuilder) -> strom.KTable:
    """Add word count to ``builder`` (a StreamsBuilder or an App); returns the counts table."""
    counts = (
        builder.stream(INPUT, value_serde=serdes.String())
        .flat_map_values(lambda line: WORD.findall(line.lower()))
        .group_by(lambda _key, word: word, key_serde=serdes.String())
        .count(store=STORE)
    )
    counts.to_stream().to(OUTPUT, key_serde=serdes.String(), value_serde=serdes.Long())
    return counts


def topology() -> strom.Topology:
    builder = strom.StreamsBuilder()
    build(builder)
    return builder.build()


if __name__ == "__main__":
    app = strom.App("wordcount", broker="memory://")
    build(app)
    print(app.topology.describe())
    with TopologyTestDriver(app.topology, config={"application.id": "wordcount"}) as driver:
        lines = driver.create_input_topic(INPUT, value_serde=serdes.String())
        lines.pipe_input(None, "Hello Kafka Streams", timestamp=1_000)
        lines.pipe_input(None, "hello strom, hello Python", timestamp=2_000)
        out = driver.create_output_topic(OUTPUT, serdes.String(), serdes.Long())
        for record in out.read_records_to_list():
            print(f"{record.key}: {record.value} (t={record.timestamp})")
