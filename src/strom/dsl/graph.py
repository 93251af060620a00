"""The logical graph the DSL builds; ``compile`` writes it into a physical :class:`Topology`.

Every DSL call adds a :class:`GraphNode`. Names are stable: a user-given name, or a name
derived from the node's lineage (source topics, then the operators on the way), never from a
global counter that shifts when an unrelated operator is added.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from strom.state.api import StoreBuilder
from strom.topology.topology import Topology


@dataclass(eq=False)
class GraphNode:
    """One step of the logical graph; ``write`` adds its physical node(s) to a topology."""

    name: str
    lineage: str
    parents: list[GraphNode] = field(default_factory=list)
    children: list[GraphNode] = field(default_factory=list)

    @property
    def output(self) -> str:
        """The physical node that children attach to."""
        return self.name

    def write(self, topology: Topology) -> None:
        raise NotImplementedError


@dataclass(eq=False)
class SourceGraphNode(GraphNode):
    topics: tuple[str, ...] = ()
    key_serde: Any = None
    value_serde: Any = None
    timestamp_extractor: Any = None

    def write(self, topology: Topology) -> None:
        topology.add_source(
            self.name,
            *self.topics,
            key_serde=self.key_serde,
            value_serde=self.value_serde,
            timestamp_extractor=self.timestamp_extractor,
        )


@dataclass(eq=False)
class ProcessorGraphNode(GraphNode):
    supplier: Any = None
    stores: list[StoreBuilder[Any, Any]] = field(default_factory=list)
    store_names: list[str] = field(default_factory=list)
    copartition: set[str] = field(default_factory=set)  # a join's inputs

    def write(self, topology: Topology) -> None:
        topology.add_processor(self.name, self.supplier, *(p.output for p in self.parents))
        for b in self.stores:
            topology.add_state_store(b, self.name)
        if self.store_names:
            topology.connect_processor_and_state_stores(self.name, *self.store_names)
        topology.add_copartition_group(self.copartition)


@dataclass(eq=False)
class GlobalStoreGraphNode(GraphNode):
    """A global table: its topic read into a store on every instance."""

    topic: str = ""
    processor_name: str = ""
    store: Any = None
    supplier: Any = None
    key_serde: Any = None
    value_serde: Any = None

    def write(self, topology: Topology) -> None:
        topology.add_global_store(
            self.store,
            self.name,
            self.topic,
            self.processor_name,
            self.supplier,
            key_serde=self.key_serde,
            value_serde=self.value_serde,
        )


@dataclass(eq=False)
class SinkGraphNode(GraphNode):
    topic: Any = None
    key_serde: Any = None
    value_serde: Any = None
    partitioner: Any = None

    def write(self, topology: Topology) -> None:
        topology.add_sink(
            self.name,
            self.topic,
            *(p.output for p in self.parents),
            key_serde=self.key_serde,
            value_serde=self.value_serde,
            partitioner=self.partitioner,
        )


@dataclass(eq=False)
class RepartitionGraphNode(GraphNode):
    """A null-key filter, a sink to ``<base>-repartition`` and a source reading it back."""

    base: str = ""
    key_serde: Any = None
    value_serde: Any = None
    partitions: int | None = None
    partitioner: Any = None
    filter_supplier: Any = None

    @property
    def topic(self) -> str:
        return f"{self.base}-repartition"

    @property
    def output(self) -> str:
        return f"{self.topic}-source"

    def write(self, topology: Topology) -> None:
        parents = [p.output for p in self.parents]
        sink_parents = parents
        if self.filter_supplier is not None:
            topology.add_processor(f"{self.topic}-filter", self.filter_supplier, *parents)
            sink_parents = [f"{self.topic}-filter"]
        topology.add_internal_topic(self.topic, "repartition", self.partitions)
        topology.add_sink(
            f"{self.topic}-sink",
            self.topic,
            *sink_parents,
            key_serde=self.key_serde,
            value_serde=self.value_serde,
            partitioner=self.partitioner,
        )
        topology.add_source(
            self.output, self.topic, key_serde=self.key_serde, value_serde=self.value_serde
        )


@dataclass(eq=False)
class StoreOnlyGraphNode(GraphNode):
    """``StreamsBuilder.add_state_store``: a store that processors connect to by name."""

    builder: Any = None

    def write(self, topology: Topology) -> None:
        topology.add_state_store(self.builder)


class LogicalGraph:
    """The DSL's graph, in creation order (parents always before children)."""

    def __init__(self) -> None:
        self.nodes: list[GraphNode] = []
        self.names: set[str] = set()
        self.store_names: set[str] = set()
        self.source_topics: dict[str, str] = {}

    def lineage(self, parents: list[GraphNode], op: str) -> str:
        """``parent-lineage/op`` plus ``#n`` for the n-th same-op child of the same parents."""
        base = "+".join(p.lineage for p in parents) if parents else ""
        siblings = 1
        if parents:
            siblings += sum(
                1 for c in parents[0].children if c.lineage.rsplit("/", 1)[-1].split("#")[0] == op
            )
        return f"{base}/{op}" + (f"#{siblings}" if siblings > 1 else "")

    def source_topics_of(self, node: GraphNode) -> set[str]:
        """The topics a node's records come from: source topics, or the repartition topic
        they last went through (for co-partitioning checks)."""
        topics: set[str] = set()
        stack, seen = [node], set()
        while stack:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            if isinstance(n, SourceGraphNode):
                topics.update(n.topics)
            elif isinstance(n, RepartitionGraphNode):
                topics.add(n.topic)
            else:
                stack.extend(n.parents)
        return topics

    @staticmethod
    def derived(prefix: str, lineage: str) -> str:
        return f"{prefix}-{hashlib.sha1(lineage.encode()).hexdigest()[:10]}"

    def add(self, node: GraphNode) -> GraphNode:
        from strom.core.errors import TopologyError

        if node.name in self.names:
            raise TopologyError(
                f"a processor named {node.name!r} already exists; names (name=) must be unique"
            )
        self.names.add(node.name)
        for p in node.parents:
            p.children.append(node)
        self.nodes.append(node)
        return node

    def compile(self) -> Topology:
        """Write every node into a fresh physical topology."""
        topology = Topology()
        for node in self.nodes:
            node.write(topology)
        return topology
