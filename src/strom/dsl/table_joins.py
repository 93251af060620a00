"""Building KTable-KTable joins: one processor per side looking up the other, and a merge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.dsl.graph import ProcessorGraphNode
from strom.dsl.ops.getters import JoinGetter, StoreGetter
from strom.dsl.ops.table_join import TableJoinMergeSupplier, TableJoinSupplier
from strom.dsl.stores import materialize
from strom.serdes.coerce import serde_for

if TYPE_CHECKING:
    from strom.dsl.ktable import KTable


def table_table_join(
    this: KTable,
    other: KTable,
    joiner: Any,
    op: str,
    store: str | None,
    name: str | None,
    value_serde: Any,
    left_outer: bool,
    right_outer: bool,
) -> KTable:
    from strom.dsl.ktable import KTable

    if not callable(joiner):
        raise TopologyError(
            f"{op}() needs a joiner (left_value, right_value) -> value, got {joiner!r}"
        )
    if other._builder is not this._builder:
        raise TopologyError(f"{op}(): both tables must come from the same builder")
    builder = this._builder
    graph = builder.graph
    # an outer side forwards its deletes (old values) so the joined row is deleted too
    if left_outer:
        this._enable_send_old_values(True)
    if right_outer:
        other._enable_send_old_values(True)
    left_getter, right_getter = this._value_getter(), other._value_getter()
    lineage = graph.lineage([this._node, other._node], op)
    base = name or graph.derived("KTABLE-JOIN", lineage)
    this_side = TableJoinSupplier(right_getter, joiner, True, left_outer, right_outer)
    other_side = TableJoinSupplier(left_getter, joiner, False, right_outer, left_outer)
    this_node = ProcessorGraphNode(
        f"{base}-this",
        f"{lineage}/this",
        [this._node],
        supplier=this_side,
        store_names=list(right_getter.store_names),
        copartition=this._source_topics() | other._source_topics(),
    )
    other_node = ProcessorGraphNode(
        f"{base}-other",
        f"{lineage}/other",
        [other._node],
        supplier=other_side,
        store_names=list(left_getter.store_names),
    )
    graph.add(this_node)
    graph.add(other_node)
    vs = serde_for(value_serde)
    merge_supplier = TableJoinMergeSupplier(store)
    merge_supplier.sides = [this_side, other_side]
    merge = ProcessorGraphNode(
        f"{base}-merge",
        f"{lineage}/merge",
        [this_node, other_node],
        supplier=merge_supplier,
        stores=[materialize(builder, store, this.key_serde, vs)] if store else [],
    )
    graph.add(merge)
    merge_supplier.value_getter = (  # type: ignore[attr-defined]
        StoreGetter(store)
        if store
        else JoinGetter(left_getter, right_getter, joiner, left_outer, right_outer)
    )
    table = KTable(
        builder, merge, this.key_serde, vs, merge_supplier, store, queryable=store is not None
    )
    table._join_parents = (this, other)  # type: ignore[attr-defined]
    return table
