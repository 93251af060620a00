"""``Topology.describe()``: sub-topologies, nodes, topics and stores, as Kafka Streams prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strom.topology.topology import Topology


@dataclass(frozen=True)
class NodeDescription:
    """One node: kind (Source/Processor/Sink), name, topics or stores, neighbours."""

    kind: str
    name: str
    topics: tuple[str, ...] = ()
    topic: str | None = None
    stores: tuple[str, ...] = ()
    successors: tuple[str, ...] = ()
    predecessors: tuple[str, ...] = ()

    def __str__(self) -> str:
        succ = ", ".join(self.successors) or "none"
        pred = ", ".join(self.predecessors) or "none"
        if self.kind == "Source":
            return f"Source: {self.name} (topics: [{', '.join(self.topics)}])\n      --> {succ}"
        if self.kind == "Sink":
            where = f"topic: {self.topic}" if self.topic else "extractor: function"
            return f"Sink: {self.name} ({where})\n      <-- {pred}"
        return (
            f"Processor: {self.name} (stores: [{', '.join(self.stores)}])\n"
            f"      --> {succ}\n      <-- {pred}"
        )


@dataclass(frozen=True)
class SubtopologyDescription:
    id: int
    nodes: tuple[NodeDescription, ...]
    is_global: bool = False

    def __str__(self) -> str:
        body = "".join(f"    {n}\n" for n in self.nodes)
        if self.is_global:  # a global store: no tasks, and no blank line after it (as Kafka)
            return f"Sub-topology: {self.id} for global store (will not generate tasks)\n{body}"
        return f"Sub-topology: {self.id}\n{body}\n"


@dataclass(frozen=True)
class TopologyDescription:
    """What :meth:`Topology.describe` returns; ``str()`` gives Kafka Streams' layout."""

    subtopologies: tuple[SubtopologyDescription, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return "Topologies:\n " + "".join(f"  {s}" for s in self.subtopologies)


def describe(topology: Topology) -> TopologyDescription:
    nodes = topology.nodes

    @cache
    def size(name: str) -> int:
        return 1 + sum(size(c) for c in nodes[name].children)

    def order(names: list[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda n: (-size(n), n)))

    subs = []
    for i, group, is_global in topology.node_groups():
        descs = []
        for name in order(group):
            d = nodes[name]
            descs.append(
                NodeDescription(
                    kind={"source": "Source", "sink": "Sink"}.get(d.kind, "Processor"),
                    name=name,
                    topics=d.topics,
                    topic=d.topic,
                    stores=tuple(d.stores),
                    successors=order(d.children),
                    predecessors=order(d.parents),
                )
            )
        subs.append(SubtopologyDescription(i, tuple(descs), is_global))
    return TopologyDescription(tuple(subs))
