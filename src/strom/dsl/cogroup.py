"""``cogroup`` (KIP-150): several grouped streams aggregated into one table, each with its own
aggregator, sharing one store and one initializer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.core.types import to_millis
from strom.dsl.graph import ProcessorGraphNode
from strom.dsl.ktable import KTable
from strom.dsl.ops.aggregate import StreamAggregateSupplier
from strom.dsl.ops.sliding import SlidingAggregateSupplier
from strom.dsl.ops.stateless import PassThroughProcessor
from strom.dsl.ops.window_aggregate import SessionAggregateSupplier, WindowAggregateSupplier
from strom.dsl.stores import materialize, materialize_session, materialize_window
from strom.dsl.windowed import retention_for
from strom.serdes.coerce import serde_for
from strom.serdes.windowed import SessionWindowedSerde, TimeWindowedSerde
from strom.windows import SessionWindows, SlidingWindows, TimeWindows

if TYPE_CHECKING:
    from strom.dsl.grouped import KGroupedStream


class CogroupSuppliers:
    """The aggregate suppliers of one cogroup: asking one for old values asks them all."""

    def __init__(self, suppliers: list[Any]) -> None:
        self.suppliers = suppliers

    @property
    def send_old_values(self) -> bool:
        return all(s.send_old_values for s in self.suppliers)

    @send_old_values.setter
    def send_old_values(self, value: bool) -> None:
        for s in self.suppliers:
            s.send_old_values = value


class CogroupedKStream:
    """Grouped streams to aggregate together.

    >>> import strom
    >>> b = strom.StreamsBuilder()
    >>> clicks = b.stream("clicks").group_by_key()
    >>> views = b.stream("views").group_by_key()
    >>> totals = (clicks.cogroup(lambda k, v, agg: agg + 1)
    ...     .cogroup(views, lambda k, v, agg: agg + 10)
    ...     .aggregate(lambda: 0, store="engagement"))
    """

    def __init__(self, first: KGroupedStream, aggregator: Callable[[Any, Any, Any], Any]) -> None:
        self._patterns: list[tuple[KGroupedStream, Callable[[Any, Any, Any], Any]]] = []
        self._windows: Any = None
        self.cogroup(first, aggregator)

    def cogroup(
        self, grouped: KGroupedStream, aggregator: Callable[[Any, Any, Any], Any]
    ) -> CogroupedKStream:
        """Add another grouped stream with its aggregator ``(key, value, aggregate)``."""
        from strom.dsl.grouped import KGroupedStream

        if not isinstance(grouped, KGroupedStream):
            raise TopologyError(f"cogroup() takes a KGroupedStream, got {grouped!r}")
        if not callable(aggregator):
            raise TopologyError(
                f"cogroup()'s aggregator must be a function (key, value, aggregate) -> "
                f"aggregate, got {aggregator!r}"
            )
        if self._patterns and grouped._stream._builder is not self._patterns[0][0]._stream._builder:
            raise TopologyError("cogroup(): every grouped stream must come from the same builder")
        if any(g is grouped for g, _ in self._patterns):
            raise TopologyError("cogroup(): a grouped stream can be added only once")
        self._patterns.append((grouped, aggregator))
        return self

    def windowed_by(self, windows: Any) -> CogroupedKStream:
        """Aggregate in TimeWindows, SlidingWindows or SessionWindows."""
        if not isinstance(windows, TimeWindows | SlidingWindows | SessionWindows):
            raise TopologyError(
                "windowed_by() takes TimeWindows, SlidingWindows or SessionWindows, "
                f"got {windows!r}"
            )
        self._windows = windows
        return self

    def aggregate(
        self,
        initializer: Callable[[], Any],
        merger: Callable[[Any, Any, Any], Any] | None = None,
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        value_serde: Any = None,
        retention: Any = None,
    ) -> KTable:
        """The table of aggregates: every input record updates it with its stream's aggregator
        (session windows also take ``merger(key, agg1, agg2)``)."""
        if not callable(initializer):
            raise TopologyError(f"aggregate's initializer must be a function, got {initializer!r}")
        windows = self._windows
        if isinstance(windows, SessionWindows) and not callable(merger):
            raise TopologyError("a session-windowed cogroup needs merger(key, agg1, agg2)")
        first = self._patterns[0][0]
        builder = first._stream._builder
        graph = builder.graph
        lineage = graph.lineage([g._stream._node for g, _ in self._patterns], "cogroup")
        store_name = store or graph.derived("COGROUPKSTREAM-AGGREGATE-STATE-STORE", lineage)
        base = name or graph.derived("COGROUPKSTREAM", lineage)
        ks = serde_for(key_serde) or first.key_serde
        vs = serde_for(value_serde)
        if windows is None:
            store_builder = materialize(builder, store_name, ks, vs)
            table_key_serde = ks
        else:
            keep = retention_for(
                windows, None if retention is None else to_millis(retention), store_name
            )
            if isinstance(windows, SessionWindows):
                store_builder = materialize_session(builder, store_name, keep, ks, vs)
                table_key_serde = SessionWindowedSerde(ks)
            else:
                size = (
                    windows.size_ms
                    if isinstance(windows, TimeWindows)
                    else windows.time_difference_ms
                )
                store_builder = materialize_window(builder, store_name, keep, size, ks, vs)
                table_key_serde = TimeWindowedSerde(ks, size)
        suppliers = []
        agg_nodes = []
        for i, (grouped, aggregator) in enumerate(self._patterns):
            parent = grouped._parent_node(grouped._name or f"{store_name}-{i}")
            supplier = self._supplier(store_name, initializer, aggregator, merger)
            suppliers.append(supplier)
            node = ProcessorGraphNode(
                f"{base}-cogroup-agg-{i}",
                f"{lineage}/agg-{i}",
                [parent],
                supplier=supplier,
                stores=[store_builder] if i == 0 else [],
                store_names=[] if i == 0 else [store_name],
            )
            graph.add(node)
            agg_nodes.append(node)
        merge = ProcessorGraphNode(
            f"{base}-cogroup-merge", f"{lineage}/merge", agg_nodes, supplier=PassThroughProcessor
        )
        graph.add(merge)
        table = KTable(
            builder,
            merge,
            table_key_serde,
            vs,
            CogroupSuppliers(suppliers),
            store_name,
            queryable=store is not None,
        )
        table._windows = windows
        return table

    def _supplier(self, store_name: str, initializer: Any, aggregator: Any, merger: Any) -> Any:
        w = self._windows
        if w is None:
            return StreamAggregateSupplier(store_name, initializer, aggregator)
        if isinstance(w, TimeWindows):
            return WindowAggregateSupplier(store_name, w, initializer, aggregator, False)
        if isinstance(w, SlidingWindows):
            return SlidingAggregateSupplier(store_name, w, initializer, aggregator, False)
        return SessionAggregateSupplier(store_name, w, initializer, aggregator, merger, False)
