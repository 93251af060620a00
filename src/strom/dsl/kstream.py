"""``KStream``: a stream of independent records, and its operators."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.dsl.graph import (
    GraphNode,
    ProcessorGraphNode,
    RepartitionGraphNode,
    SinkGraphNode,
)
from strom.dsl.ops import stateless as ops
from strom.dsl.ops.table import TableSourceSupplier
from strom.dsl.stores import materialize
from strom.serdes.coerce import serde_for

if TYPE_CHECKING:
    from strom.dsl.branched import BranchedKStream
    from strom.dsl.builder import StreamsBuilder
    from strom.dsl.grouped import KGroupedStream
    from strom.dsl.ktable import KTable


def check_callable(fn: object, op: str, shape: str) -> None:
    if not callable(fn):
        raise TopologyError(f"{op}() takes a function {shape}, got {fn!r}")


class KStream:
    """An unbounded stream of key-value records.

    >>> import strom
    >>> from strom import serdes
    >>> b = strom.StreamsBuilder()
    >>> words = b.stream("lines", value_serde=serdes.String()).flat_map_values(str.split)
    """

    def __init__(
        self,
        builder: StreamsBuilder,
        node: GraphNode,
        key_serde: Any = None,
        value_serde: Any = None,
        repartition_required: bool = False,
    ) -> None:
        self._builder = builder
        self._node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._repartition_required = repartition_required

    # ---- plumbing --------------------------------------------------------------------------
    def _processor(
        self,
        prefix: str,
        op: str,
        supplier: Any,
        name: str | None,
        parents: list[GraphNode] | None = None,
        **kw: Any,
    ) -> ProcessorGraphNode:
        graph = self._builder.graph
        parents = parents or [self._node]
        lineage = graph.lineage(parents, op)
        node = ProcessorGraphNode(
            name or graph.derived(prefix, lineage), lineage, parents, supplier=supplier, **kw
        )
        graph.add(node)
        return node

    def _stream(
        self,
        node: GraphNode,
        key_serde: Any = ...,
        value_serde: Any = ...,
        repartition: bool | None = None,
    ) -> KStream:
        return KStream(
            self._builder,
            node,
            self.key_serde if key_serde is ... else key_serde,
            self.value_serde if value_serde is ... else value_serde,
            self._repartition_required if repartition is None else repartition,
        )

    # ---- stateless -------------------------------------------------------------------------
    def filter(self, predicate: Callable[[Any, Any], bool], name: str | None = None) -> KStream:
        """Keep the records for which ``predicate(key, value)`` is true."""
        check_callable(predicate, "filter", "(key, value) -> bool")
        return self._stream(
            self._processor(
                "KSTREAM-FILTER", "filter", lambda: ops.FilterProcessor(predicate), name
            )
        )

    def filter_not(self, predicate: Callable[[Any, Any], bool], name: str | None = None) -> KStream:
        """Drop the records for which ``predicate(key, value)`` is true."""
        check_callable(predicate, "filter_not", "(key, value) -> bool")
        return self._stream(
            self._processor(
                "KSTREAM-FILTER",
                "filter_not",
                lambda: ops.FilterProcessor(predicate, keep=False),
                name,
            )
        )

    def map(
        self, mapper: Callable[[Any, Any], tuple[Any, Any]], name: str | None = None
    ) -> KStream:
        """Replace each record by ``mapper(key, value) -> (key, value)``; marks for repartition."""
        check_callable(mapper, "map", "(key, value) -> (key, value)")
        return self._stream(
            self._processor("KSTREAM-MAP", "map", lambda: ops.MapProcessor(mapper), name),
            None,
            None,
            True,
        )

    def map_values(self, mapper: Callable[[Any], Any], name: str | None = None) -> KStream:
        """Replace each value by ``mapper(value)``; the key (and partitioning) stays."""
        check_callable(mapper, "map_values", "(value) -> value")
        return self._stream(
            self._processor(
                "KSTREAM-MAPVALUES", "map_values", lambda: ops.MapValuesProcessor(mapper), name
            ),
            value_serde=None,
        )

    def select_key(self, mapper: Callable[[Any, Any], Any], name: str | None = None) -> KStream:
        """Set each record's key to ``mapper(key, value)``; marks for repartition."""
        check_callable(mapper, "select_key", "(key, value) -> key")
        return self._stream(
            self._processor(
                "KSTREAM-KEY-SELECT", "select_key", lambda: ops.SelectKeyProcessor(mapper), name
            ),
            None,
            ...,
            True,
        )

    def flat_map(
        self, mapper: Callable[[Any, Any], Iterable[tuple[Any, Any]]], name: str | None = None
    ) -> KStream:
        """Replace each record by zero or more ``(key, value)`` pairs; marks for repartition."""
        check_callable(mapper, "flat_map", "(key, value) -> iterable of (key, value)")
        return self._stream(
            self._processor(
                "KSTREAM-FLATMAP", "flat_map", lambda: ops.FlatMapProcessor(mapper), name
            ),
            None,
            None,
            True,
        )

    def flat_map_values(
        self, mapper: Callable[[Any], Iterable[Any]], name: str | None = None
    ) -> KStream:
        """Replace each value by zero or more values, keeping the key."""
        check_callable(mapper, "flat_map_values", "(value) -> iterable of values")
        return self._stream(
            self._processor(
                "KSTREAM-FLATMAPVALUES",
                "flat_map_values",
                lambda: ops.FlatMapValuesProcessor(mapper),
                name,
            ),
            value_serde=None,
        )

    def peek(self, action: Callable[[Any, Any], None], name: str | None = None) -> KStream:
        """Call ``action(key, value)`` for each record and pass it on unchanged."""
        check_callable(action, "peek", "(key, value) -> None")
        return self._stream(
            self._processor("KSTREAM-PEEK", "peek", lambda: ops.PeekProcessor(action), name)
        )

    def foreach(self, action: Callable[[Any, Any], None], name: str | None = None) -> None:
        """Call ``action(key, value)`` for each record (a terminal operation)."""
        check_callable(action, "foreach", "(key, value) -> None")
        self._processor("KSTREAM-FOREACH", "foreach", lambda: ops.PeekProcessor(action), name)

    def print(self, label: str | None = None, name: str | None = None) -> None:
        """Print each record as ``[label]: key, value`` (Kafka's ``Printed.toSysOut``)."""
        tag = label or "KSTREAM"

        def show(key: Any, value: Any) -> None:
            print(f"[{tag}]: {key}, {value}", flush=True)

        self._processor("KSTREAM-PRINTER", "print", lambda: ops.PeekProcessor(show), name)

    def merge(self, other: KStream, name: str | None = None) -> KStream:
        """One stream with the records of both."""
        if not isinstance(other, KStream):
            raise TopologyError(f"merge() takes a KStream, got {other!r}")
        if other._builder is not self._builder:
            raise TopologyError("merge(): both streams must come from the same builder")
        node = self._processor(
            "KSTREAM-MERGE",
            "merge",
            ops.PassThroughProcessor,
            name,
            parents=[self._node, other._node],
        )
        same_keys = self.key_serde == other.key_serde
        same_values = self.value_serde == other.value_serde
        return self._stream(
            node,
            self.key_serde if same_keys else None,
            self.value_serde if same_values else None,
            self._repartition_required or other._repartition_required,
        )

    def split(self, name: str | None = None) -> BranchedKStream:
        """Route each record to the first branch whose predicate matches (KIP-418)."""
        from strom.dsl.branched import BranchedKStream

        return BranchedKStream(self, name)

    # ---- sinks and repartitioning ------------------------------------------------------------
    def to(
        self,
        topic: str | Callable[[Any, Any, Any], str],
        key_serde: Any = None,
        value_serde: Any = None,
        partitioner: Callable[[str, Any, Any, int], int | None] | None = None,
        name: str | None = None,
    ) -> None:
        """Write to ``topic``, or to the topic ``topic(key, value, record_context)`` names."""
        if not isinstance(topic, str) and not callable(topic):
            raise TopologyError(f"to() takes a topic name or a function, got {topic!r}")
        graph = self._builder.graph
        lineage = graph.lineage([self._node], "to")
        graph.add(
            SinkGraphNode(
                name or graph.derived("KSTREAM-SINK", lineage),
                lineage,
                [self._node],
                topic=topic,
                key_serde=serde_for(key_serde) or self.key_serde,
                value_serde=serde_for(value_serde) or self.value_serde,
                partitioner=partitioner,
            )
        )

    def repartition(
        self,
        key_serde: Any = None,
        value_serde: Any = None,
        name: str | None = None,
        partitions: int | None = None,
        partitioner: Callable[[str, Any, Any, int], int | None] | None = None,
    ) -> KStream:
        """Write through an internal ``<application.id>-<name>-repartition`` topic."""
        ks = serde_for(key_serde) or self.key_serde
        vs = serde_for(value_serde) or self.value_serde
        node = self._repartition_node(
            name, ks, vs, "KSTREAM-REPARTITION", partitions, partitioner, null_filter=False
        )
        return KStream(self._builder, node, ks, vs, False)

    def _repartition_node(
        self,
        base: str | None,
        key_serde: Any,
        value_serde: Any,
        prefix: str,
        partitions: int | None = None,
        partitioner: Any = None,
        null_filter: bool = True,
    ) -> RepartitionGraphNode:
        graph = self._builder.graph
        lineage = graph.lineage([self._node], "repartition")
        node = RepartitionGraphNode(
            f"{base or graph.derived(prefix, lineage)}-repartition-node",
            lineage,
            [self._node],
            base=base or graph.derived(prefix, lineage),
            key_serde=key_serde,
            value_serde=value_serde,
            partitions=partitions,
            partitioner=partitioner,
            filter_supplier=ops.RepartitionFilterProcessor if null_filter else None,
        )
        graph.add(node)
        return node

    # ---- stateful ----------------------------------------------------------------------------
    def group_by_key(
        self, key_serde: Any = None, value_serde: Any = None, name: str | None = None
    ) -> KGroupedStream:
        """Group by the current key (repartitioned first if an operator changed the key)."""
        from strom.dsl.grouped import KGroupedStream

        return KGroupedStream(
            self,
            serde_for(key_serde) or self.key_serde,
            serde_for(value_serde) or self.value_serde,
            name,
            self._repartition_required,
        )

    def group_by(
        self,
        selector: Callable[[Any, Any], Any],
        key_serde: Any = None,
        value_serde: Any = None,
        name: str | None = None,
    ) -> KGroupedStream:
        """Group by ``selector(key, value)``: a new key, so records are repartitioned."""
        from strom.dsl.grouped import KGroupedStream

        check_callable(selector, "group_by", "(key, value) -> new key")
        keyed = self.select_key(selector)
        return KGroupedStream(
            keyed,
            serde_for(key_serde),
            serde_for(value_serde) or self.value_serde,
            name,
            True,
        )

    def to_table(
        self,
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        value_serde: Any = None,
    ) -> KTable:
        """A table of the latest value per key; a None value deletes (null keys are dropped)."""
        from strom.dsl.ktable import KTable

        ks = serde_for(key_serde) or self.key_serde
        vs = serde_for(value_serde) or self.value_serde
        parent = self
        if self._repartition_required:
            parent = KStream(
                self._builder,
                self._repartition_node(store or name, ks, vs, "KSTREAM-TOTABLE"),
                ks,
                vs,
            )
        supplier = TableSourceSupplier(store)  # materialized when named or needed later
        node = parent._processor(
            "KSTREAM-TOTABLE",
            "to_table",
            supplier,
            name,
            stores=[materialize(self._builder, store, ks, vs)] if store else [],
        )
        return KTable(self._builder, node, ks, vs, supplier, store, queryable=store is not None)

    def process(
        self, processor_supplier: Callable[[], Any], *store_names: str, name: str | None = None
    ) -> KStream:
        """Run a Processor API processor (``processor_supplier()`` makes one per task).

        Stores named must be added with ``StreamsBuilder.add_state_store`` first.
        """
        check_callable(processor_supplier, "process", "that returns a Processor (a class works)")
        for s in store_names:
            if s not in self._builder.graph.store_names:
                known = sorted(self._builder.graph.store_names)
                raise TopologyError(
                    f"process() names state store {s!r}, which is not added; add it with "
                    f"StreamsBuilder.add_state_store(...) first (stores: {known})"
                )
        return self._stream(
            self._processor(
                "KSTREAM-PROCESSOR",
                "process",
                processor_supplier,
                name,
                store_names=list(store_names),
            ),
            None,
            None,
            True,
        )

    # ---- joins ---------------------------------------------------------------------------------
    def join(self, other: Any, *args: Any, name: str | None = None, **kwargs: Any) -> KStream:
        """Inner join: ``join(table, joiner)``, ``join(global_table, key_mapper, joiner)`` or
        ``join(stream, joiner, JoinWindows...)``; joiners take ``(left_value, right_value)``."""
        return self._join("join", other, args, kwargs, name, left=False, outer=False)

    def left_join(self, other: Any, *args: Any, name: str | None = None, **kwargs: Any) -> KStream:
        """Left join: every record of this stream comes out, with None when unmatched."""
        return self._join("left_join", other, args, kwargs, name, left=True, outer=False)

    def outer_join(self, other: Any, *args: Any, name: str | None = None, **kwargs: Any) -> KStream:
        """Outer join of two streams within JoinWindows."""
        return self._join("outer_join", other, args, kwargs, name, left=True, outer=True)

    def _join(
        self,
        op: str,
        other: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        name: str | None,
        left: bool,
        outer: bool,
    ) -> KStream:
        from strom.dsl.joins import stream_global_join, stream_stream_join, stream_table_join
        from strom.dsl.ktable import GlobalKTable, KTable

        if isinstance(other, KTable):
            if outer:
                raise TopologyError(
                    "outer_join() is for two streams or two tables, not a stream and a table"
                )
            return stream_table_join(self, op, other, args, kwargs, name, left)
        if isinstance(other, GlobalKTable):
            if outer:
                raise TopologyError("outer_join() with a GlobalKTable does not exist")
            return stream_global_join(self, op, other, args, kwargs, name, left)
        if isinstance(other, KStream):
            return stream_stream_join(self, op, other, args, kwargs, name, left, outer)
        raise TopologyError(
            f"{op}() joins this stream with a KStream, KTable or GlobalKTable; got {other!r}"
        )

    def __repr__(self) -> str:
        return f"KStream({self._node.name!r})"
