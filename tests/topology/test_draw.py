"""to_mermaid / to_dot: exact pictures of small topologies, and sub-topologies linked by topics."""

from __future__ import annotations

from strom import StreamsBuilder, Topology
from strom.processor import Processor
from strom.serdes import String
from strom.state import Stores
from strom.topology.description import NodeDescription, SubtopologyDescription, TopologyDescription
from strom.topology.draw import to_dot, to_mermaid


class Noop(Processor):
    def process(self, record):
        pass


def small() -> Topology:
    """A source reading two topics, a processor with a store, a sink."""
    return (
        Topology()
        .add_source("source", "in-a", "in.b")
        .add_processor("p1", Noop, "source")
        .add_state_store(
            Stores.key_value_store_builder(
                Stores.in_memory_key_value_store("my-store"), String(), String()
            ),
            "p1",
        )
        .add_sink("sink", "out", "p1")
    )


MERMAID = """\
flowchart TD
    t_in_a(["in-a"])
    t_in_b(["in.b"])
    t_out(["out"])
    subgraph sub_0["Sub-topology: 0"]
        n_source["source"]
        n_p1["p1"]
        n_sink["sink"]
        s_my_store[("my-store")]
    end
    t_in_a --> n_source
    t_in_b --> n_source
    n_source --> n_p1
    n_p1 --> n_sink
    n_sink --> t_out
    n_p1 -.- s_my_store
"""

DOT = """\
digraph topology {
    rankdir=TB;
    node [fontname="Helvetica"];
    t_in_a [label="in-a", shape=ellipse];
    t_in_b [label="in.b", shape=ellipse];
    t_out [label="out", shape=ellipse];
    subgraph cluster_sub_0 {
        label="Sub-topology: 0";
        n_source [label="source", shape=box];
        n_p1 [label="p1", shape=box];
        n_sink [label="sink", shape=box];
        s_my_store [label="my-store", shape=cylinder];
    }
    t_in_a -> n_source;
    t_in_b -> n_source;
    n_source -> n_p1;
    n_p1 -> n_sink;
    n_sink -> t_out;
    n_p1 -> s_my_store [style=dotted, arrowhead=none];
}
"""


def test_mermaid_exact():
    assert to_mermaid(small().describe()) == MERMAID


def test_dot_exact():
    assert to_dot(small().describe()) == DOT


def word_count() -> TopologyDescription:
    b = StreamsBuilder()
    (
        b.stream("text", name="source")
        .flat_map_values(str.split, name="split")
        .group_by(lambda _, w: w, key_serde=String(), name="by-word")
        .count(store="counts", name="count")
        .to_stream(name="changes")
        .to("counts-out", name="sink")
    )
    return b.build().describe()


def test_word_count_links_sub_topologies_through_the_repartition_topic():
    text = to_mermaid(word_count())
    lines = text.splitlines()
    sub0 = lines[lines.index('    subgraph sub_0["Sub-topology: 0"]') : lines.index("    end")]
    after0 = lines[lines.index("    end") + 1 :]
    sub1 = after0[: after0.index("    end")]
    assert '        n_by_word_repartition_sink["by-word-repartition-sink"]' in sub0
    assert '        n_by_word_repartition_source["by-word-repartition-source"]' in sub1
    assert '        s_counts[("counts")]' in sub1
    topic = '    t_by_word_repartition(["by-word-repartition"])'
    assert topic in lines and topic not in sub0 + sub1  # shared, so outside both boxes
    assert "    n_by_word_repartition_sink --> t_by_word_repartition" in lines
    assert "    t_by_word_repartition --> n_by_word_repartition_source" in lines
    assert "    n_count -.- s_counts" in lines

    dot = to_dot(word_count()).splitlines()
    assert "    n_by_word_repartition_sink -> t_by_word_repartition;" in dot
    assert "    t_by_word_repartition -> n_by_word_repartition_source;" in dot


def test_output_is_deterministic():
    assert to_mermaid(word_count()) == to_mermaid(word_count())
    assert to_dot(word_count()) == to_dot(word_count())


def test_ids_are_sanitized_unique_and_labels_escaped():
    desc = TopologyDescription(
        (
            SubtopologyDescription(
                0,
                (
                    NodeDescription("Source", "a-b", topics=("end",), successors=("a.b",)),
                    NodeDescription(
                        "Processor", "a.b", successors=('say "hi"',), predecessors=("a-b",)
                    ),
                    NodeDescription("Sink", 'say "hi"', topic="x\\y", predecessors=("a.b",)),
                ),
            ),
        )
    )
    mermaid = to_mermaid(desc)
    assert '    t_end(["end"])' in mermaid  # a Mermaid keyword is safe behind its prefix
    assert '        n_a_b["a-b"]' in mermaid
    assert '        n_a_b_2["a.b"]' in mermaid
    assert '        n_say__hi_["say #quot;hi#quot;"]' in mermaid
    assert "    n_a_b --> n_a_b_2" in mermaid
    dot = to_dot(desc)
    assert '        n_say__hi_ [label="say \\"hi\\"", shape=box];' in dot
    assert '    t_x_y [label="x\\\\y", shape=ellipse];' in dot


def test_extractor_sink_has_no_topic_edge():
    b = StreamsBuilder()
    b.stream("in", name="src").to(lambda k, v, ctx: "t", name="route")
    text = to_mermaid(b.build().describe())
    assert text.endswith("    t_in --> n_src\n    n_src --> n_route\n")


def test_docstring_examples():
    import doctest

    import strom.topology.draw

    assert doctest.testmod(strom.topology.draw).failed == 0
