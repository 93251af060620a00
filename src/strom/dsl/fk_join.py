"""Building the foreign-key join (KIP-213): two internal topics and six processors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.dsl.graph import GraphNode, ProcessorGraphNode
from strom.dsl.ops import fk_join as fk
from strom.dsl.ops.getters import StoreGetter
from strom.dsl.ops.table_join import TableJoinMergeSupplier
from strom.dsl.stores import materialize
from strom.serdes import Bytes
from strom.serdes.coerce import serde_for
from strom.state import Stores
from strom.topology.topology import Topology

if TYPE_CHECKING:
    from strom.dsl.ktable import KTable


@dataclass(eq=False)
class FkJoinGraphNode(GraphNode):
    """Everything between the two tables and the join's result."""

    spec: Any = None
    left_node: Any = None
    right_node: Any = None
    left_topics: set[str] | None = None
    right_topics: set[str] | None = None
    left_key_serde: Any = None
    right_key_serde: Any = None
    right_value_serde: Any = None
    subscription_store: Any = None

    @property
    def output(self) -> str:
        return f"{self.name}-subscription-response-resolver"

    def write(self, t: Topology) -> None:
        n, spec = self.name, self.spec
        registration, response = (
            f"{n}-subscription-registration-topic",
            f"{n}-subscription-response-topic",
        )
        sub_serde = fk.SubscriptionSerde(self.left_key_serde)
        resp_serde = fk.ResponseSerde(self.right_value_serde)
        # the left side: subscriptions out, keyed by the foreign key
        t.add_processor(
            f"{n}-subscription-registration-processor",
            fk.supplier(fk.SendProcessor, spec),
            self.left_node.output,
        )
        t.add_internal_topic(registration)
        t.add_sink(
            f"{n}-subscription-registration-sink",
            registration,
            f"{n}-subscription-registration-processor",
            key_serde=self.right_key_serde,
            value_serde=sub_serde,
        )
        # the right side: keep subscriptions, answer them, answer again on right changes
        t.add_source(
            f"{n}-subscription-registration-source",
            registration,
            key_serde=self.right_key_serde,
            value_serde=sub_serde,
        )
        t.add_processor(
            f"{n}-subscription-receive",
            fk.supplier(fk.ReceiveProcessor, spec),
            f"{n}-subscription-registration-source",
        )
        t.add_processor(
            f"{n}-subscription-join-foreign",
            fk.supplier(fk.JoinForeignProcessor, spec),
            f"{n}-subscription-receive",
        )
        t.add_processor(
            f"{n}-foreign-join-subscription",
            fk.supplier(fk.ForeignTableJoinProcessor, spec),
            self.right_node.output,
        )
        t.add_state_store(
            self.subscription_store, f"{n}-subscription-receive", f"{n}-foreign-join-subscription"
        )
        if spec.right_getter.store_names:
            t.connect_processor_and_state_stores(
                f"{n}-subscription-join-foreign", *spec.right_getter.store_names
            )
        t.add_internal_topic(response)
        t.add_sink(
            f"{n}-subscription-response-sink",
            response,
            f"{n}-subscription-join-foreign",
            f"{n}-foreign-join-subscription",
            key_serde=self.left_key_serde,
            value_serde=resp_serde,
            partitioner=fk.response_partition,
        )
        # back on the left side: resolve the answers
        t.add_source(
            f"{n}-subscription-response-source",
            response,
            key_serde=self.left_key_serde,
            value_serde=resp_serde,
        )
        t.add_processor(
            self.output,
            fk.supplier(fk.ResolverProcessor, spec),
            f"{n}-subscription-response-source",
        )
        if spec.left_getter.store_names:
            t.connect_processor_and_state_stores(self.output, *spec.left_getter.store_names)
        t.add_copartition_group({registration, *(self.right_topics or ())})
        t.add_copartition_group({response, *(self.left_topics or ())})


def foreign_key_join(
    this: KTable,
    other: KTable,
    extractor: Any,
    joiner: Any,
    op: str,
    store: str | None,
    name: str | None,
    value_serde: Any,
    left: bool,
) -> KTable:
    from strom.dsl.ktable import KTable

    if not callable(extractor):
        raise TopologyError(
            f"{op}() needs foreign_key_extractor(value) or (key, value) -> "
            f"foreign key, got {extractor!r}"
        )
    if not callable(joiner):
        raise TopologyError(
            f"{op}() needs a joiner (left_value, right_value) -> value, got {joiner!r}"
        )
    if other._builder is not this._builder:
        raise TopologyError(f"{op}(): both tables must come from the same builder")
    builder = this._builder
    graph = builder.graph
    this._enable_send_old_values(True)
    other._enable_send_old_values(True)
    left_getter, right_getter = this._value_getter(), other._value_getter()
    lineage = graph.lineage([this._node, other._node], f"fk-{op}")
    base = name or graph.derived("KTABLE-FK-JOIN", lineage)
    sub_store = f"{base}-subscription-store"
    kind = str(builder.config.get("default.dsl.store", "rocksDB")).lower()
    supplier = (
        Stores.in_memory_key_value_store(sub_store)
        if "memory" in kind
        else Stores.persistent_key_value_store(sub_store)
    )
    builder.graph.store_names.add(sub_store)
    spec = fk.FkJoinSpec(
        extractor,
        joiner,
        left,
        left_getter,
        right_getter,
        sub_store,
        this.key_serde,
        this.value_serde,
        other.key_serde,
    )
    node = FkJoinGraphNode(
        base,
        lineage,
        [this._node, other._node],
        spec=spec,
        left_node=this._node,
        right_node=other._node,
        left_topics=this._source_topics(),
        right_topics=other._source_topics(),
        left_key_serde=this.key_serde,
        right_key_serde=other.key_serde,
        right_value_serde=other.value_serde,
        subscription_store=Stores.key_value_store_builder(
            supplier, Bytes(), fk.SubscriptionSerde(this.key_serde)
        ),
    )
    graph.add(node)
    vs = serde_for(value_serde)
    result = TableJoinMergeSupplier(store)
    result.value_getter = StoreGetter(store) if store else None  # type: ignore[attr-defined]
    out = ProcessorGraphNode(
        f"{base}-result",
        f"{lineage}/result",
        [node],
        supplier=result,
        stores=[materialize(builder, store, this.key_serde, vs)] if store else [],
    )
    graph.add(out)
    return KTable(builder, out, this.key_serde, vs, result, store, queryable=store is not None)
