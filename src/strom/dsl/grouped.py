"""Grouped streams and tables: ``count``, ``reduce`` and ``aggregate``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.dsl.graph import GraphNode, ProcessorGraphNode, RepartitionGraphNode
from strom.dsl.ktable import KTable
from strom.dsl.ops.aggregate import StreamAggregateSupplier, TableAggregateSupplier
from strom.dsl.ops.change_serde import ChangeSerde
from strom.dsl.stores import materialize
from strom.serdes import Long
from strom.serdes.coerce import serde_for

if TYPE_CHECKING:
    from strom.dsl.builder import StreamsBuilder
    from strom.dsl.kstream import KStream


def _count_adder(key: Any, value: Any, agg: int) -> int:
    return agg + 1


def _count_subtractor(key: Any, value: Any, agg: int) -> int:
    return agg - 1


def _zero() -> int:
    return 0


def _check(fn: object, what: str, shape: str) -> None:
    if not callable(fn):
        raise TopologyError(f"{what} must be a function {shape}, got {fn!r}")


class KGroupedStream:
    """A stream grouped by key, ready to aggregate.

    >>> import strom
    >>> from strom import serdes
    >>> b = strom.StreamsBuilder()
    >>> counts = b.stream("clicks", key_serde=serdes.String()).group_by_key().count(store="c")
    """

    def __init__(
        self,
        stream: KStream,
        key_serde: Any,
        value_serde: Any,
        name: str | None,
        repartition_required: bool,
    ) -> None:
        self._stream = stream
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._name = name
        self._repartition_required = repartition_required
        self._repartition: RepartitionGraphNode | None = None

    def count(
        self, store: str | None = None, name: str | None = None, key_serde: Any = None
    ) -> KTable:
        """The number of records per key (records with a None key or value are skipped)."""
        return self._aggregate(
            "count", "KSTREAM-AGGREGATE", _zero, _count_adder, store, name, key_serde, Long()
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        value_serde: Any = None,
    ) -> KTable:
        """Combine values per key with ``reducer(aggregate, value)``; the first value starts it."""
        _check(reducer, "reduce's reducer", "(aggregate, value) -> aggregate")
        return self._aggregate(
            "reduce",
            "KSTREAM-REDUCE",
            None,
            lambda k, v, agg: reducer(agg, v),
            store,
            name,
            key_serde,
            serde_for(value_serde) or self.value_serde,
        )

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        value_serde: Any = None,
    ) -> KTable:
        """Fold values per key: ``aggregator(key, value, aggregate)`` from ``initializer()``."""
        _check(initializer, "aggregate's initializer", "() -> aggregate")
        _check(aggregator, "aggregate's aggregator", "(key, value, aggregate) -> aggregate")
        return self._aggregate(
            "aggregate",
            "KSTREAM-AGGREGATE",
            initializer,
            aggregator,
            store,
            name,
            key_serde,
            serde_for(value_serde),
        )

    def windowed_by(self, windows: Any) -> Any:
        """Aggregate in windows: TimeWindows (tumbling, hopping), SlidingWindows or
        SessionWindows."""
        from strom.dsl.windowed import windowed

        return windowed(self, windows)

    def cogroup(self, aggregator: Callable[[Any, Any, Any], Any]) -> Any:
        """Start a cogroup (KIP-150): this stream with ``aggregator(key, value, aggregate)``;
        add more with ``.cogroup(other_grouped, aggregator)``, then ``.aggregate(initializer)``."""
        from strom.dsl.cogroup import CogroupedKStream

        return CogroupedKStream(self, aggregator)

    def _parent_node(self, base: str) -> GraphNode:
        stream = self._stream
        if not self._repartition_required:
            return stream._node
        if self._name is not None and self._repartition is not None:
            return self._repartition  # one topic for every aggregation of a named grouping
        node = stream._repartition_node(base, self.key_serde, self.value_serde, "KSTREAM-AGGREGATE")
        if self._name is not None:
            self._repartition = node
        return node

    def _aggregate(
        self,
        op: str,
        prefix: str,
        initializer: Any,
        aggregator: Any,
        store: str | None,
        name: str | None,
        key_serde: Any,
        value_serde: Any,
    ) -> KTable:
        builder = self._stream._builder
        graph = builder.graph
        lineage = graph.lineage([self._stream._node], op)
        store_name = store or graph.derived(f"{prefix}-STATE-STORE", lineage)
        ks = serde_for(key_serde) or self.key_serde
        parent = self._parent_node(self._name or store_name)
        supplier = StreamAggregateSupplier(store_name, initializer, aggregator)
        node = ProcessorGraphNode(
            name or graph.derived(prefix, lineage),
            lineage,
            [parent],
            supplier=supplier,
            stores=[materialize(builder, store_name, ks, value_serde)],
        )
        graph.add(node)
        return KTable(
            builder, node, ks, value_serde, supplier, store_name, queryable=store is not None
        )


class KGroupedTable:
    """A table re-grouped by a new key; aggregations add new values and subtract old ones."""

    def __init__(
        self,
        builder: StreamsBuilder,
        node: GraphNode,
        key_serde: Any,
        value_serde: Any,
        name: str | None,
    ) -> None:
        self._builder = builder
        self._node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._name = name

    def count(self, store: str | None = None, name: str | None = None) -> KTable:
        """Rows per group; a row leaving a group counts down (to 0, not deleted)."""
        return self._aggregate(
            "count", "KTABLE-AGGREGATE", _zero, _count_adder, _count_subtractor, store, name, Long()
        )

    def reduce(
        self,
        adder: Callable[[Any, Any], Any],
        subtractor: Callable[[Any, Any], Any],
        store: str | None = None,
        name: str | None = None,
        value_serde: Any = None,
    ) -> KTable:
        """``adder(aggregate, new_value)`` and ``subtractor(aggregate, old_value)`` per group."""
        _check(adder, "reduce's adder", "(aggregate, value) -> aggregate")
        _check(subtractor, "reduce's subtractor", "(aggregate, value) -> aggregate")
        return self._aggregate(
            "reduce",
            "KTABLE-REDUCE",
            None,
            lambda k, v, agg: adder(agg, v),
            lambda k, v, agg: subtractor(agg, v),
            store,
            name,
            serde_for(value_serde) or self.value_serde,
            "KTABLE-AGGREGATE",
        )

    def aggregate(
        self,
        initializer: Callable[[], Any],
        adder: Callable[[Any, Any, Any], Any],
        subtractor: Callable[[Any, Any, Any], Any],
        store: str | None = None,
        name: str | None = None,
        value_serde: Any = None,
    ) -> KTable:
        """``adder(key, value, agg)`` for new rows, ``subtractor(key, old, agg)`` for old ones."""
        _check(initializer, "aggregate's initializer", "() -> aggregate")
        _check(adder, "aggregate's adder", "(key, value, aggregate) -> aggregate")
        _check(subtractor, "aggregate's subtractor", "(key, value, aggregate) -> aggregate")
        return self._aggregate(
            "aggregate",
            "KTABLE-AGGREGATE",
            initializer,
            adder,
            subtractor,
            store,
            name,
            serde_for(value_serde),
        )

    def _aggregate(
        self,
        op: str,
        prefix: str,
        initializer: Any,
        adder: Any,
        subtractor: Any,
        store: str | None,
        name: str | None,
        value_serde: Any,
        store_prefix: str | None = None,
    ) -> KTable:
        builder = self._builder
        graph = builder.graph
        lineage = graph.lineage([self._node], op)
        store_name = store or graph.derived(f"{store_prefix or prefix}-STATE-STORE", lineage)
        base = self._name or store_name
        repartition = RepartitionGraphNode(
            f"{base}-repartition-node",
            graph.lineage([self._node], "repartition"),
            [self._node],
            base=base,
            key_serde=self.key_serde,
            value_serde=ChangeSerde(self.value_serde),
        )
        graph.add(repartition)
        supplier = TableAggregateSupplier(store_name, initializer, adder, subtractor)
        supplier.send_old_values = True
        node = ProcessorGraphNode(
            name or graph.derived(prefix, lineage),
            lineage,
            [repartition],
            supplier=supplier,
            stores=[materialize(builder, store_name, self.key_serde, value_serde)],
        )
        graph.add(node)
        table = KTable(
            builder,
            node,
            self.key_serde,
            value_serde,
            supplier,
            store_name,
            queryable=store is not None,
        )
        return table
