"""``Topology``: the physical graph of sources, processors, sinks and state stores.

Written to by hand (the Processor API) or by the DSL's compiler; described with
:meth:`Topology.describe`; built into per-task node instances by :meth:`Topology.build`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strom.core.errors import TopologyError
from strom.processor.api import ProcessorSupplier
from strom.serdes.base import Serde
from strom.state.api import StoreBuilder
from strom.topology.nodes import StreamPartitioner, TimestampExtractor, TopicNameExtractor

_LEGAL = re.compile(r"^[a-zA-Z0-9._-]+$")


@dataclass
class NodeDef:
    """One node as declared; built into a fresh node per task."""

    name: str
    kind: str  # "source" | "processor" | "sink"
    parents: list[str]
    topics: tuple[str, ...] = ()
    key_serde: Serde[Any] | None = None
    value_serde: Serde[Any] | None = None
    timestamp_extractor: TimestampExtractor | None = None
    supplier: ProcessorSupplier | None = None
    stores: list[str] = field(default_factory=list)
    topic: str | None = None
    topic_extractor: TopicNameExtractor | None = None
    partitioner: StreamPartitioner | None = None
    children: list[str] = field(default_factory=list)
    is_global: bool = False


@dataclass
class InternalTopic:
    """A topic the application owns: repartition topics (changelogs are derived from stores)."""

    name: str
    kind: str = "repartition"
    partitions: int | None = None
    config: dict[str, str] = field(default_factory=dict)


@dataclass
class StoreDef:
    builder: StoreBuilder[Any, Any]
    processors: list[str] = field(default_factory=list)
    is_global: bool = False


def check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise TopologyError(f"{what} must be a non-empty string, got {name!r}")
    return name


class Topology:
    """A graph of sources, processors and sinks, with the state stores they use.

    >>> from strom import Topology
    >>> from strom.processor import Processor
    >>> class Up(Processor):
    ...     def init(self, context): self.context = context
    ...     def process(self, record): self.context.forward(record.with_value(record.value.upper()))
    >>> t = (Topology().add_source("src", "in").add_processor("up", Up, "src")
    ...      .add_sink("out", "output", "up"))
    >>> print(t.describe())  # doctest: +ELLIPSIS
    Topologies:
       Sub-topology: 0
        Source: src (topics: [in])
    ...
    """

    def __init__(self) -> None:
        self.nodes: dict[str, NodeDef] = {}
        self.stores: dict[str, StoreDef] = {}
        self.internal_topics: dict[str, InternalTopic] = {}
        self.copartition_groups: list[set[str]] = []
        self._source_topics: dict[str, str] = {}  # topic -> source node name

    # ---- the Processor API -------------------------------------------------------------
    def add_source(
        self,
        name: str,
        *topics: str,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        timestamp_extractor: TimestampExtractor | None = None,
    ) -> Topology:
        """Add a source node reading ``topics``; serdes default to the app's defaults."""
        self._check_new(name, "source")
        if not topics:
            raise TopologyError(f"source {name!r} needs at least one topic")
        for t in topics:
            check_name(t, f"source {name!r} topic")
            if t in self._source_topics:
                raise TopologyError(
                    f"topic {t!r} is already read by source {self._source_topics[t]!r}; "
                    f"source {name!r} cannot read it too"
                )
        for t in topics:
            self._source_topics[t] = name
        self.nodes[name] = NodeDef(
            name,
            "source",
            [],
            topics=tuple(topics),
            key_serde=key_serde,
            value_serde=value_serde,
            timestamp_extractor=timestamp_extractor,
        )
        return self

    def add_processor(self, name: str, supplier: ProcessorSupplier, *parent_names: str) -> Topology:
        """Add a processor made by ``supplier()`` (a Processor class works), child of parents."""
        self._check_new(name, "processor")
        if not callable(supplier):
            raise TopologyError(
                f"processor {name!r}: supplier must be callable and return a Processor, "
                f"got {supplier!r}"
            )
        self._check_parents(name, parent_names)
        self.nodes[name] = NodeDef(name, "processor", list(parent_names), supplier=supplier)
        for p in parent_names:
            self.nodes[p].children.append(name)
        builders = getattr(supplier, "stores", None)
        if callable(builders) and not isinstance(supplier, type):
            for b in builders() or ():
                self.add_state_store(b, name)
        return self

    def add_sink(
        self,
        name: str,
        topic: str | TopicNameExtractor,
        *parent_names: str,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        partitioner: StreamPartitioner | None = None,
    ) -> Topology:
        """Add a sink writing to ``topic`` (or to the topic ``topic(key, value, ctx)`` names)."""
        self._check_new(name, "sink")
        self._check_parents(name, parent_names)
        if isinstance(topic, str):
            check_name(topic, f"sink {name!r} topic")
            node = NodeDef(name, "sink", list(parent_names), topic=topic)
        elif callable(topic):
            node = NodeDef(name, "sink", list(parent_names), topic_extractor=topic)
        else:
            raise TopologyError(
                f"sink {name!r}: topic must be a topic name or a function, got {topic!r}"
            )
        node.key_serde, node.value_serde, node.partitioner = key_serde, value_serde, partitioner
        self.nodes[name] = node
        for p in parent_names:
            self.nodes[p].children.append(name)
        return self

    def add_state_store(
        self, store_builder: StoreBuilder[Any, Any], *processor_names: str
    ) -> Topology:
        """Add a store (from ``strom.state.Stores``) and connect it to the processors named."""
        if not isinstance(store_builder, StoreBuilder):
            raise TopologyError(
                f"add_state_store takes a store builder (strom.state.Stores.*_builder), "
                f"got {store_builder!r}"
            )
        name = store_builder.name
        if name in self.stores:
            if self.stores[name].builder is not store_builder:
                raise TopologyError(f"a state store named {name!r} is already added")
        else:
            self.stores[name] = StoreDef(store_builder)
        for p in processor_names:
            self.connect_processor_and_state_stores(p, name)
        return self

    def connect_processor_and_state_stores(
        self, processor_name: str, *store_names: str
    ) -> Topology:
        """Give processor ``processor_name`` access to stores already added."""
        node = self.nodes.get(processor_name)
        if node is None or node.kind != "processor":
            raise TopologyError(
                f"cannot connect stores to {processor_name!r}: no processor of that name"
                + self._known("processors", "processor")
            )
        for s in store_names:
            if s not in self.stores:
                raise TopologyError(
                    f"processor {processor_name!r} uses state store {s!r}, which is not added"
                    + (
                        f"; stores added: {sorted(self.stores)}"
                        if self.stores
                        else "; add it with Topology.add_state_store or "
                        "StreamsBuilder.add_state_store"
                    )
                )
            if s not in node.stores:
                node.stores.append(s)
            if processor_name not in self.stores[s].processors:
                self.stores[s].processors.append(processor_name)
        return self

    def add_internal_topic(
        self,
        name: str,
        kind: str = "repartition",
        partitions: int | None = None,
        config: Mapping[str, str] | None = None,
    ) -> Topology:
        """Declare an application-owned topic (named ``<application.id>-<name>`` at run time)."""
        check_name(name, "internal topic")
        self.internal_topics[name] = InternalTopic(name, kind, partitions, dict(config or {}))
        return self

    # ---- queries -------------------------------------------------------------------------
    def describe(self) -> Any:
        """A :class:`TopologyDescription`; ``print()`` it for Kafka Streams' text form."""
        from strom.topology.description import describe

        return describe(self)

    def node_groups(self) -> list[tuple[int, list[str], bool]]:
        """``(id, node names, is_global)`` per group of connected nodes (edges and shared
        stores), numbered in the order their first node was added, as Kafka Streams does."""
        parent: dict[str, str] = {n: n for n in self.nodes}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[rb] = ra

        for n in self.nodes.values():
            for p in n.parents:
                union(p, n.name)
        for s in self.stores.values():
            for a, b in zip(s.processors, s.processors[1:], strict=False):
                union(a, b)
        groups: dict[str, list[str]] = {}
        for name in self.nodes:  # insertion order
            groups.setdefault(find(name), []).append(name)
        return [
            (i, names, any(self.nodes[n].is_global for n in names))
            for i, names in enumerate(groups.values())
        ]

    def subtopologies(self) -> dict[int, list[str]]:
        """Node names of each sub-topology that makes tasks (global stores make none)."""
        return {i: names for i, names, is_global in self.node_groups() if not is_global}

    def global_groups(self) -> dict[int, list[str]]:
        """Node names of each global store's group (read on every instance, no tasks)."""
        return {i: names for i, names, is_global in self.node_groups() if is_global}

    def add_global_store(
        self,
        store_builder: StoreBuilder[Any, Any],
        source_name: str,
        topic: str,
        processor_name: str,
        state_update_supplier: ProcessorSupplier,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
        timestamp_extractor: TimestampExtractor | None = None,
    ) -> Topology:
        """A store filled from every partition of ``topic`` on every instance, by the
        processor ``state_update_supplier()`` makes; any processor may read it. The topic is
        its changelog, so the builder must have logging disabled (as in Kafka Streams)."""
        if not isinstance(store_builder, StoreBuilder):
            raise TopologyError(f"add_global_store takes a store builder, got {store_builder!r}")
        if store_builder.logging_enabled:
            raise TopologyError(
                f"global store {store_builder.name!r} must have logging disabled "
                "(with_logging_disabled()): its topic is its changelog"
            )
        self.add_source(
            source_name,
            topic,
            key_serde=key_serde,
            value_serde=value_serde,
            timestamp_extractor=timestamp_extractor,
        )
        self.nodes[source_name].is_global = True
        self.add_processor(processor_name, state_update_supplier, source_name)
        self.nodes[processor_name].is_global = True
        self.add_state_store(store_builder, processor_name)
        self.stores[store_builder.name].is_global = True
        return self

    def global_store_names(self) -> list[str]:
        return [name for name, d in self.stores.items() if d.is_global]

    def add_copartition_group(self, topics: set[str]) -> Topology:
        """Topics that must have the same number of partitions (a join's inputs)."""
        if len(topics) > 1:
            self.copartition_groups.append(set(topics))
        return self

    def source_topics(self) -> list[str]:
        return list(self._source_topics)

    def sink_topics(self) -> list[str]:
        return [n.topic for n in self.nodes.values() if n.kind == "sink" and n.topic]

    def validate(self) -> None:
        """Raise :class:`TopologyError` for a graph that cannot run."""
        if not any(n.kind == "source" for n in self.nodes.values()):
            raise TopologyError("the topology has no source: add a stream, table or source")
        for s, d in self.stores.items():
            if not d.processors:
                raise TopologyError(f"state store {s!r} is not connected to any processor")

    def build(
        self,
        application_id: str,
        config: Mapping[str, Any] | None = None,
        subtopology: int | None = None,
        global_stores: bool = False,
    ) -> Any:
        """Fresh nodes and stores for one task (all sub-topologies unless one is named), or
        for the global stores (``global_stores=True``)."""
        from strom.topology.build import build_processor_topology

        return build_processor_topology(
            self, application_id, config or {}, subtopology, global_stores
        )

    # ---- helpers ---------------------------------------------------------------------------
    def _check_new(self, name: str, what: str) -> None:
        check_name(name, f"{what} name")
        if name in self.nodes:
            raise TopologyError(f"a node named {name!r} is already added; names must be unique")

    def _check_parents(self, name: str, parents: tuple[str, ...]) -> None:
        if not parents:
            raise TopologyError(f"node {name!r} needs at least one parent node")
        for p in parents:
            node = self.nodes.get(p)
            if node is None:
                raise TopologyError(
                    f"node {name!r} names parent {p!r}, which is not added" + self._known("nodes")
                )
            if node.kind == "sink":
                raise TopologyError(f"node {name!r}: sink {p!r} cannot be a parent")
            if p == name:
                raise TopologyError(f"node {name!r} cannot be its own parent")

    def _known(self, what: str, kind: str | None = None) -> str:
        names = [n for n, d in self.nodes.items() if kind is None or d.kind == kind]
        return f"; {what} added: {names}" if names else ""

    def __repr__(self) -> str:
        return f"Topology({len(self.nodes)} nodes, {len(self.stores)} stores)"


__all__ = ["InternalTopic", "NodeDef", "StoreDef", "Topology", "check_name"]

_ = Callable  # re-exported typing helper for annotations
