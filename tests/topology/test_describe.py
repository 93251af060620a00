"""Topology.describe(): Kafka Streams' text layout, exactly."""

from __future__ import annotations

from strom import StreamsBuilder, Topology
from strom.processor import Processor
from strom.serdes import String
from strom.state import Stores


class Noop(Processor):
    def process(self, record):
        pass


WORDCOUNT = """\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> counts-store-repartition-filter
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Processor: counts-store-repartition-filter (stores: [])
      --> counts-store-repartition-sink
      <-- KSTREAM-KEY-SELECT-0000000002
    Sink: counts-store-repartition-sink (topic: counts-store-repartition)
      <-- counts-store-repartition-filter

  Sub-topology: 1
    Source: counts-store-repartition-source (topics: [counts-store-repartition])
      --> KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])
      --> KTABLE-TOSTREAM-0000000007
      <-- counts-store-repartition-source
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-AGGREGATE-0000000003
    Sink: KSTREAM-SINK-0000000008 (topic: streams-wordcount-output)
      <-- KTABLE-TOSTREAM-0000000007

"""


def test_word_count_layout_matches_kafka_streams():
    """Kafka's word-count describe() output, rebuilt with the DSL and Kafka's node names."""
    b = StreamsBuilder()
    (
        b.stream("streams-plaintext-input", name="KSTREAM-SOURCE-0000000000")
        .flat_map_values(str.split, name="KSTREAM-FLATMAPVALUES-0000000001")
        .select_key(lambda k, w: w, name="KSTREAM-KEY-SELECT-0000000002")
        .group_by_key()
        .count(store="counts-store", name="KSTREAM-AGGREGATE-0000000003")
        .to_stream(name="KTABLE-TOSTREAM-0000000007")
        .to("streams-wordcount-output", name="KSTREAM-SINK-0000000008")
    )
    assert str(b.build().describe()) == WORDCOUNT


def test_processor_api_layout_with_stores_and_fan_out():
    t = (
        Topology()
        .add_source("source", "a", "b")
        .add_processor("p1", Noop, "source")
        .add_processor("p2", Noop, "source")
        .add_processor("p3", Noop, "p1", "p2")
        .add_state_store(
            Stores.key_value_store_builder(
                Stores.in_memory_key_value_store("store"), String(), String()
            ),
            "p1",
            "p3",
        )
        .add_sink("sink", "out", "p3")
        .add_source("other", "c")
        .add_processor("lonely", Noop, "other")
    )
    assert (
        str(t.describe())
        == """\
Topologies:
   Sub-topology: 0
    Source: source (topics: [a, b])
      --> p1, p2
    Processor: p1 (stores: [store])
      --> p3
      <-- source
    Processor: p2 (stores: [])
      --> p3
      <-- source
    Processor: p3 (stores: [store])
      --> sink
      <-- p1, p2
    Sink: sink (topic: out)
      <-- p3

  Sub-topology: 1
    Source: other (topics: [c])
      --> lonely
    Processor: lonely (stores: [])
      --> none
      <-- other

"""
    )
    desc = t.describe()
    assert [s.id for s in desc.subtopologies] == [0, 1]
    assert [n.name for n in desc.subtopologies[1].nodes] == ["other", "lonely"]


def test_generated_names_are_stable_when_unrelated_operators_are_added():
    def names(extra: bool) -> set[str]:
        b = StreamsBuilder()
        s = b.stream("in")
        if extra:
            b.stream("unrelated").filter(lambda k, v: True).to("x")
            s.peek(print)
        s.group_by(lambda k, v: v).count().to_stream().to("out")
        t = b.build()
        return set(t.stores) | set(t.internal_topics)

    before, after = names(False), names(True)
    assert before <= after and len(before) == 2
    assert all(n.startswith("KSTREAM-AGGREGATE-STATE-STORE-") for n in before)


def test_extractor_sink_and_mermaid_free_text():
    b = StreamsBuilder()
    b.stream("in").to(lambda k, v, ctx: "t", name="route")
    assert "Sink: route (extractor: function)" in str(b.build().describe())
