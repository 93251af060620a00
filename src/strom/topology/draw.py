"""Draw a :class:`TopologyDescription` as a Mermaid flowchart or a Graphviz digraph.

Both pictures hold the same content: one box per sub-topology holding its processors (boxes)
and stores (cylinders, joined to the processors that use them by dotted lines); topics are
round nodes outside the boxes, so a repartition topic written by one sub-topology and read by
another visibly links the two. Output is a pure, deterministic function of the description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from strom.topology.description import NodeDescription, TopologyDescription

__all__ = ["to_dot", "to_mermaid"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


@dataclass
class _Ids:
    """Readable ids made of ``[A-Za-z0-9_]`` only: a kind prefix plus the sanitized name, with a
    numeric suffix should two names sanitize alike (``a-b`` and ``a.b``)."""

    taken: set[str] = field(default_factory=set)
    ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def __call__(self, prefix: str, name: str) -> str:
        key = (prefix, name)
        if key not in self.ids:
            base = f"{prefix}_{_UNSAFE.sub('_', name)}"
            ident, n = base, 1
            while ident in self.taken:
                n += 1
                ident = f"{base}_{n}"
            self.taken.add(ident)
            self.ids[key] = ident
        return self.ids[key]


@dataclass
class _Graph:
    """The picture, independent of the output language."""

    topics: list[tuple[str, str]]  # (id, name), in order of first appearance
    clusters: list[tuple[str, str, list[tuple[str, str, str]]]]  # (id, label, [(id, name, kind)])
    edges: list[tuple[str, str]]  # data flow: topic -> source -> ... -> sink -> topic
    links: list[tuple[str, str]]  # processor -- store


def _topics_of(node: NodeDescription) -> Iterator[str]:
    yield from node.topics
    if node.topic:
        yield node.topic


def _graph(description: TopologyDescription) -> _Graph:
    ids = _Ids()
    topics: dict[str, str] = {}
    clusters, edges, links = [], [], []
    for sub in description.subtopologies:
        members: list[tuple[str, str, str]] = []
        stores: dict[str, str] = {}
        for node in sub.nodes:
            nid = ids("n", node.name)
            members.append((nid, node.name, "node"))
            for t in _topics_of(node):
                if t not in topics:
                    topics[t] = ids("t", t)
            if node.kind == "Source":
                edges.extend((topics[t], nid) for t in node.topics)
            edges.extend((nid, ids("n", s)) for s in node.successors)
            if node.kind == "Sink" and node.topic:
                edges.append((nid, topics[node.topic]))
            for s in node.stores:
                if s not in stores:
                    stores[s] = ids("s", s)
                links.append((nid, stores[s]))
        members.extend((sid, name, "store") for name, sid in stores.items())
        clusters.append((f"sub_{sub.id}", f"Sub-topology: {sub.id}", members))
    return _Graph([(i, n) for n, i in topics.items()], clusters, edges, links)


def _mermaid_label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def to_mermaid(description: TopologyDescription) -> str:
    """A Mermaid ``flowchart TD`` of the topology (paste into Markdown or mermaid.live).

    >>> from strom import StreamsBuilder
    >>> b = StreamsBuilder()
    >>> b.stream("in", name="src").to("out", name="sink")
    >>> print(to_mermaid(b.build().describe()))
    flowchart TD
        t_in(["in"])
        t_out(["out"])
        subgraph sub_0["Sub-topology: 0"]
            n_src["src"]
            n_sink["sink"]
        end
        t_in --> n_src
        n_src --> n_sink
        n_sink --> t_out
    <BLANKLINE>
    """
    g = _graph(description)
    out = ["flowchart TD"]
    out += [f"    {tid}([{_mermaid_label(name)}])" for tid, name in g.topics]
    for cid, label, members in g.clusters:
        out.append(f"    subgraph {cid}[{_mermaid_label(label)}]")
        for mid, name, kind in members:
            shape = "[({})]" if kind == "store" else "[{}]"
            out.append(f"        {mid}{shape.format(_mermaid_label(name))}")
        out.append("    end")
    out += [f"    {a} --> {b}" for a, b in g.edges]
    out += [f"    {a} -.- {b}" for a, b in g.links]
    return "\n".join(out) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(description: TopologyDescription) -> str:
    """A Graphviz digraph of the topology (render with ``dot -Tsvg``).

    >>> from strom import StreamsBuilder
    >>> b = StreamsBuilder()
    >>> b.stream("in", name="src").to("out", name="sink")
    >>> print(to_dot(b.build().describe()))
    digraph topology {
        rankdir=TB;
        node [fontname="Helvetica"];
        t_in [label="in", shape=ellipse];
        t_out [label="out", shape=ellipse];
        subgraph cluster_sub_0 {
            label="Sub-topology: 0";
            n_src [label="src", shape=box];
            n_sink [label="sink", shape=box];
        }
        t_in -> n_src;
        n_src -> n_sink;
        n_sink -> t_out;
    }
    <BLANKLINE>
    """
    g = _graph(description)
    out = ["digraph topology {", "    rankdir=TB;", '    node [fontname="Helvetica"];']
    out += [f"    {tid} [label={_dot_quote(name)}, shape=ellipse];" for tid, name in g.topics]
    for cid, label, members in g.clusters:
        out.append(f"    subgraph cluster_{cid} {{")
        out.append(f"        label={_dot_quote(label)};")
        for mid, name, kind in members:
            shape = "cylinder" if kind == "store" else "box"
            out.append(f"        {mid} [label={_dot_quote(name)}, shape={shape}];")
        out.append("    }")
    out += [f"    {a} -> {b};" for a, b in g.edges]
    out += [f"    {a} -> {b} [style=dotted, arrowhead=none];" for a, b in g.links]
    out.append("}")
    return "\n".join(out) + "\n"
