"""``KTable``: a changelog stream read as a table — the latest value per key."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.dsl.graph import GraphNode, ProcessorGraphNode
from strom.dsl.ops.aggregate import StreamAggregateSupplier, TableAggregateSupplier
from strom.dsl.ops.getters import (
    FilterGetter,
    MapValuesGetter,
    StoreGetter,
    ValueGetterSupplier,
)
from strom.dsl.ops.sliding import SlidingAggregateSupplier
from strom.dsl.ops.suppress import BufferEntrySerde, SuppressSupplier
from strom.dsl.ops.table import (
    TableFilterSupplier,
    TableMapValuesSupplier,
    TableRepartitionMapSupplier,
    TableSourceSupplier,
    TableToStreamProcessor,
)
from strom.dsl.ops.table_join import TableJoinMergeSupplier
from strom.dsl.ops.window_aggregate import SessionAggregateSupplier, WindowAggregateSupplier
from strom.dsl.stores import materialize, materialize_buffer
from strom.serdes.coerce import serde_for
from strom.windows import SessionWindows, Suppressed

AGGREGATES = (
    StreamAggregateSupplier,
    TableAggregateSupplier,
    WindowAggregateSupplier,
    SlidingAggregateSupplier,
    SessionAggregateSupplier,
)

if TYPE_CHECKING:
    from strom.dsl.builder import StreamsBuilder
    from strom.dsl.grouped import KGroupedTable
    from strom.dsl.kstream import KStream


class KTable:
    """A table: each record is an update of its key; a None value deletes the key.

    >>> import strom
    >>> from strom import serdes
    >>> b = strom.StreamsBuilder()
    >>> users = b.table("users", key_serde=serdes.String(), store="users-store")
    """

    def __init__(
        self,
        builder: StreamsBuilder,
        node: ProcessorGraphNode,
        key_serde: Any,
        value_serde: Any,
        supplier: Any,
        store_name: str | None,
        queryable: bool = False,
        parent: KTable | None = None,
    ) -> None:
        self._builder = builder
        self._node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._supplier = supplier
        self._store_name = store_name  # None: not materialized (yet)
        self._queryable = queryable
        self._parent = parent
        self._send_old_values = False
        self._windows: Any = None  # the windows of a windowed aggregation's table

    @property
    def queryable_store_name(self) -> str | None:
        """The name of the store that holds this table, when the user named one."""
        return self._store_name if self._queryable else None

    # ---- old values and materialization (Kafka's enableSendingOldValues) ----------------------
    def _enable_send_old_values(self, force: bool) -> bool:
        """Ask this table's processor to forward old values; True if it will."""
        if self._send_old_values:
            return True
        s = self._supplier
        if isinstance(s, TableSourceSupplier):
            if s.store_name is None:
                if not force:
                    return False
                self._materialize_source()
            s.send_old_values = True
        elif isinstance(s, AGGREGATES) or hasattr(s, "suppliers"):  # cogroups too
            s.send_old_values = True
        elif isinstance(s, TableJoinMergeSupplier):
            if s.store_name is None:  # old values come from both sides' parents
                for parent in self._join_parents:
                    parent._enable_send_old_values(force)
                for side in s.sides:
                    side.send_old_values = True
            s.send_old_values = True
        elif isinstance(s, SuppressSupplier):
            assert self._parent is not None
            if not self._parent._enable_send_old_values(force):
                return False
        elif isinstance(s, TableFilterSupplier | TableMapValuesSupplier):
            if s.store_name is None:
                assert self._parent is not None
                if not self._parent._enable_send_old_values(force):
                    return False
            s.send_old_values = True
        else:  # pragma: no cover - every table node has one of the suppliers above
            return False
        self._send_old_values = True
        return True

    def _materialize_source(self) -> str:
        """Give a source table its store (joins and group_by need one)."""
        s = self._supplier
        if s.store_name is None:
            graph = self._builder.graph
            name = graph.derived("KTABLE-SOURCE-STATE-STORE", self._node.lineage)
            self._node.stores.append(
                materialize(self._builder, name, self.key_serde, self.value_serde)
            )
            s.store_name = name
            self._store_name = name
        return s.store_name

    def _value_getter(self) -> ValueGetterSupplier:
        """How a join reads this table (materializing a source table if needed)."""
        s = self._supplier
        if isinstance(s, TableSourceSupplier):
            return StoreGetter(self._materialize_source())
        if isinstance(s, TableFilterSupplier | TableMapValuesSupplier) and s.store_name is None:
            assert self._parent is not None
            parent = self._parent._value_getter()
            if isinstance(s, TableFilterSupplier):
                return FilterGetter(parent, s.predicate, s.keep)
            return MapValuesGetter(parent, s.mapper)
        getter = getattr(s, "value_getter", None)
        if getter is not None:
            return getter
        if self._store_name is None:
            raise TopologyError(
                f"this table ({self._node.name}) cannot be joined: it is not materialized; "
                "give the operator that makes it a store= name"
            )
        return StoreGetter(self._store_name)

    def _source_topics(self) -> set[str]:
        return self._builder.graph.source_topics_of(self._node)

    # ---- operators -----------------------------------------------------------------------------
    def _table_op(
        self,
        prefix: str,
        op: str,
        supplier: Any,
        name: str | None,
        store: str | None,
        value_serde: Any,
    ) -> KTable:
        graph = self._builder.graph
        lineage = graph.lineage([self._node], op)
        node = ProcessorGraphNode(
            name or graph.derived(prefix, lineage),
            lineage,
            [self._node],
            supplier=supplier,
            stores=[materialize(self._builder, store, self.key_serde, value_serde)]
            if store
            else [],
        )
        graph.add(node)
        return KTable(
            self._builder,
            node,
            self.key_serde,
            value_serde,
            supplier,
            store,
            queryable=store is not None,
            parent=self,
        )

    def filter(
        self,
        predicate: Callable[[Any, Any], bool],
        store: str | None = None,
        name: str | None = None,
    ) -> KTable:
        """Rows for which ``predicate(key, value)`` holds; others become deletes."""
        return self._filter(predicate, True, store, name, "filter")

    def filter_not(
        self,
        predicate: Callable[[Any, Any], bool],
        store: str | None = None,
        name: str | None = None,
    ) -> KTable:
        """Rows for which ``predicate(key, value)`` does not hold."""
        return self._filter(predicate, False, store, name, "filter_not")

    def _filter(
        self, predicate: Any, keep: bool, store: str | None, name: str | None, op: str
    ) -> KTable:
        if not callable(predicate):
            raise TopologyError(
                f"KTable.{op}() takes a function (key, value) -> bool, got {predicate!r}"
            )
        supplier = TableFilterSupplier(predicate, keep, store)
        # a filter asks its parent for old values, to drop deletes of rows it never passed
        supplier.send_old_values = self._enable_send_old_values(False)
        return self._table_op("KTABLE-FILTER", op, supplier, name, store, self.value_serde)

    def map_values(
        self,
        mapper: Callable[[Any], Any],
        store: str | None = None,
        name: str | None = None,
        value_serde: Any = None,
    ) -> KTable:
        """Each row's value replaced by ``mapper(value)`` (deletes stay deletes)."""
        if not callable(mapper):
            raise TopologyError(
                f"KTable.map_values() takes a function (value) -> value, got {mapper!r}"
            )
        supplier = TableMapValuesSupplier(mapper, store)
        return self._table_op(
            "KTABLE-MAPVALUES", "map_values", supplier, name, store, serde_for(value_serde)
        )

    def to_stream(self, name: str | None = None) -> KStream:
        """The stream of this table's updates; a delete becomes a record with a None value."""
        from strom.dsl.kstream import KStream

        graph = self._builder.graph
        lineage = graph.lineage([self._node], "to_stream")
        node: GraphNode = graph.add(
            ProcessorGraphNode(
                name or graph.derived("KTABLE-TOSTREAM", lineage),
                lineage,
                [self._node],
                supplier=TableToStreamProcessor,
            )
        )
        return KStream(self._builder, node, self.key_serde, self.value_serde)

    def group_by(
        self,
        selector: Callable[[Any, Any], tuple[Any, Any]],
        key_serde: Any = None,
        value_serde: Any = None,
        name: str | None = None,
    ) -> KGroupedTable:
        """Re-group rows by ``selector(key, value) -> (new_key, new_value)`` for aggregation."""
        from strom.dsl.grouped import KGroupedTable

        if not callable(selector):
            raise TopologyError(
                f"KTable.group_by() takes a function (key, value) -> (key, value), got {selector!r}"
            )
        self._enable_send_old_values(True)
        graph = self._builder.graph
        lineage = graph.lineage([self._node], "group_by")
        node = graph.add(
            ProcessorGraphNode(
                graph.derived("KTABLE-SELECT", lineage),
                lineage,
                [self._node],
                supplier=TableRepartitionMapSupplier(selector),
            )
        )
        return KGroupedTable(
            self._builder, node, serde_for(key_serde), serde_for(value_serde), name
        )

    # ---- joins ------------------------------------------------------------------------------
    def join(
        self,
        other: KTable,
        *args: Any,
        store: str | None = None,
        name: str | None = None,
        value_serde: Any = None,
    ) -> KTable:
        """Inner join with another table on the key: ``join(other, joiner)``; or the
        foreign-key join ``join(other, foreign_key_extractor, joiner)`` (KIP-213)."""
        return self._join("join", other, args, store, name, value_serde, False, False)

    def left_join(
        self,
        other: KTable,
        *args: Any,
        store: str | None = None,
        name: str | None = None,
        value_serde: Any = None,
    ) -> KTable:
        """Every row of this table, joined with the other's row or None."""
        return self._join("left_join", other, args, store, name, value_serde, True, False)

    def outer_join(
        self,
        other: KTable,
        joiner: Any,
        store: str | None = None,
        name: str | None = None,
        value_serde: Any = None,
    ) -> KTable:
        """Rows of either table, joined with the other's row or None."""
        return self._join("outer_join", other, (joiner,), store, name, value_serde, True, True)

    def _join(
        self,
        op: str,
        other: Any,
        args: tuple[Any, ...],
        store: str | None,
        name: str | None,
        value_serde: Any,
        left_outer: bool,
        right_outer: bool,
    ) -> KTable:
        if not isinstance(other, KTable):
            raise TopologyError(f"KTable.{op}() joins with another KTable, got {other!r}")
        if len(args) == 2:
            from strom.dsl.fk_join import foreign_key_join

            if right_outer:
                raise TopologyError("a foreign-key join is inner or left, not outer")
            return foreign_key_join(
                self, other, args[0], args[1], op, store, name, value_serde, left_outer
            )
        if len(args) != 1:
            raise TopologyError(
                f"KTable.{op}() takes (other, joiner) or (other, "
                f"foreign_key_extractor, joiner); got {len(args) + 1} arguments"
            )
        from strom.dsl.table_joins import table_table_join

        return table_table_join(
            self, other, args[0], op, store, name, value_serde, left_outer, right_outer
        )

    def suppress(self, suppressed: Suppressed, name: str | None = None) -> KTable:
        """Hold updates back: ``Suppressed.until_window_closes(...)`` emits one final result
        per window once it closes; ``Suppressed.until_time_limit(...)`` emits a key's latest
        value once the limit has passed (in stream time) since its first held update."""
        if not isinstance(suppressed, Suppressed):
            raise TopologyError(f"suppress() takes a Suppressed config, got {suppressed!r}")
        final = suppressed.final_results
        if final:
            if self._windows is None:
                raise TopologyError(
                    "Window close time is only defined for windowed computations: "
                    "until_window_closes needs a windowed aggregation upstream"
                )
            w = self._windows
            wait = w.grace_ms + (w.inactivity_gap_ms if isinstance(w, SessionWindows) else 0)
        else:
            wait = int(suppressed.time_to_wait_ms or 0)
        self._enable_send_old_values(True)
        graph = self._builder.graph
        lineage = graph.lineage([self._node], "suppress")
        node_name = name or suppressed.name or graph.derived("KTABLE-SUPPRESS", lineage)
        store_name = f"{node_name}-store"
        supplier = SuppressSupplier(node_name, store_name, suppressed, wait, final)
        buffer = materialize_buffer(
            self._builder, store_name, self.key_serde, BufferEntrySerde(self.value_serde)
        )
        if not suppressed.buffer_config.logging_enabled:
            buffer = buffer.with_logging_disabled()
        node = ProcessorGraphNode(
            node_name, lineage, [self._node], supplier=supplier, stores=[buffer]
        )
        graph.add(node)
        table = KTable(
            self._builder, node, self.key_serde, self.value_serde, supplier, None, parent=self
        )
        table._windows = self._windows
        return table

    def __repr__(self) -> str:
        return f"KTable({self._node.name!r}, store={self._store_name!r})"


class GlobalKTable:
    """A table fully replicated to every instance, for joins without co-partitioning.

    >>> import strom
    >>> b = strom.StreamsBuilder()
    >>> products = b.global_table("products", store="products-store")
    >>> products.queryable_store_name
    'products-store'
    """

    def __init__(self, topic: str, store_name: str, key_serde: Any, value_serde: Any) -> None:
        self.topic = topic
        self.store_name = store_name
        self.key_serde = key_serde
        self.value_serde = value_serde

    @property
    def queryable_store_name(self) -> str:
        return self.store_name

    def _value_getter(self) -> ValueGetterSupplier:
        getter = StoreGetter(self.store_name)
        getter.store_names = ()  # global stores are readable without connecting them
        return getter

    def __repr__(self) -> str:
        return f"GlobalKTable({self.topic!r}, store={self.store_name!r})"
