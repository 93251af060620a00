"""``StreamsBuilder``: the entry point of the DSL — streams, tables, stores — and ``build()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strom.core.errors import TopologyError
from strom.dsl.graph import (
    GlobalStoreGraphNode,
    LogicalGraph,
    ProcessorGraphNode,
    SourceGraphNode,
    StoreOnlyGraphNode,
)
from strom.dsl.kstream import KStream
from strom.dsl.ktable import GlobalKTable, KTable
from strom.dsl.ops.table import TableSourceSupplier
from strom.dsl.stores import materialize
from strom.serdes.coerce import serde_for
from strom.state.api import StoreBuilder
from strom.topology.topology import Topology, check_name


class StreamsBuilder:
    """Builds a topology with the DSL.

    >>> import strom
    >>> from strom import serdes
    >>> builder = strom.StreamsBuilder()
    >>> builder.stream("in", value_serde=serdes.String()).filter(lambda k, v: v).to("out")
    >>> print(builder.build().describe())  # doctest: +ELLIPSIS
    Topologies:
    ...
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.graph = LogicalGraph()

    def stream(
        self,
        topic_or_topics: str | list[str] | tuple[str, ...],
        key_serde: Any = None,
        value_serde: Any = None,
        name: str | None = None,
        timestamp_extractor: Any = None,
    ) -> KStream:
        """A KStream reading one topic or several."""
        topics = (topic_or_topics,) if isinstance(topic_or_topics, str) else tuple(topic_or_topics)
        if not topics:
            raise TopologyError("stream() needs at least one topic")
        for t in topics:
            check_name(t, "stream topic")
        self._claim(topics)
        ks, vs = serde_for(key_serde), serde_for(value_serde)
        node = self.graph.add(
            SourceGraphNode(
                name or self.graph.derived("KSTREAM-SOURCE", "|".join(topics)),
                "|".join(topics),
                topics=topics,
                key_serde=ks,
                value_serde=vs,
                timestamp_extractor=timestamp_extractor,
            )
        )
        return KStream(self, node, ks, vs)

    def table(
        self,
        topic: str,
        key_serde: Any = None,
        value_serde: Any = None,
        store: str | None = None,
        name: str | None = None,
    ) -> KTable:
        """A KTable: the latest value per key of ``topic``; a None value deletes the key."""
        check_name(topic, "table topic")
        self._claim((topic,))
        ks, vs = serde_for(key_serde), serde_for(value_serde)
        source = self.graph.add(
            SourceGraphNode(
                name or self.graph.derived("KSTREAM-SOURCE", topic),
                topic,
                topics=(topic,),
                key_serde=ks,
                value_serde=vs,
            )
        )
        lineage = self.graph.lineage([source], "table")
        # materialized when named, or later when a join or group_by needs it (as Kafka 4.x)
        supplier = TableSourceSupplier(store)
        node = self.graph.add(
            ProcessorGraphNode(
                self.graph.derived("KTABLE-SOURCE", lineage) if name is None else f"{name}-table",
                lineage,
                [source],
                supplier=supplier,
                stores=[materialize(self, store, ks, vs)] if store else [],
            )
        )
        return KTable(self, node, ks, vs, supplier, store, queryable=store is not None)

    def global_table(
        self,
        topic: str,
        key_serde: Any = None,
        value_serde: Any = None,
        store: str | None = None,
        name: str | None = None,
    ) -> GlobalKTable:
        """A table of ``topic`` read in full (every partition) on every instance, for
        joins that need no co-partitioning; it is loaded before processing starts."""
        check_name(topic, "global table topic")
        self._claim((topic,))
        ks, vs = serde_for(key_serde), serde_for(value_serde)
        source = name or self.graph.derived("KSTREAM-SOURCE", topic)
        lineage = f"{topic}/global_table"
        store_name = store or self.graph.derived("GLOBALKTABLE-STATE-STORE", lineage)
        store_builder = materialize(self, store_name, ks, vs).with_caching_disabled()
        self.graph.add(
            GlobalStoreGraphNode(
                source,
                lineage,
                topic=topic,
                processor_name=self.graph.derived("KTABLE-SOURCE", lineage),
                store=store_builder.with_logging_disabled(),
                supplier=TableSourceSupplier(store_name),
                key_serde=ks,
                value_serde=vs,
            )
        )
        return GlobalKTable(topic, store_name, ks, vs)

    def add_state_store(self, store_builder: StoreBuilder[Any, Any]) -> StreamsBuilder:
        """Add a store that ``KStream.process(supplier, store_name)`` can connect to."""
        if not isinstance(store_builder, StoreBuilder):
            raise TopologyError(
                f"add_state_store takes a store builder (strom.state.Stores), got {store_builder!r}"
            )
        if store_builder.name in self.graph.store_names:
            raise TopologyError(f"a state store named {store_builder.name!r} is already added")
        self.graph.store_names.add(store_builder.name)
        self.graph.nodes.insert(
            0, StoreOnlyGraphNode(f"store:{store_builder.name}", "", builder=store_builder)
        )
        return self

    def build(self) -> Topology:
        """Compile the logical graph into a physical :class:`Topology`."""
        return self.graph.compile()

    def _claim(self, topics: tuple[str, ...]) -> None:
        for t in topics:
            if t in self.graph.source_topics:
                raise TopologyError(
                    f"topic {t!r} is already read by source {self.graph.source_topics[t]!r}: "
                    "read a topic once and reuse the KStream/KTable"
                )
        for t in topics:
            self.graph.source_topics[t] = "|".join(topics)
