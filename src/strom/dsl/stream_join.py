"""Building a KStream-KStream join: a window store per side, a join processor per side, and
for left/outer joins the store of not-yet-matched records, merged into one stream."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.dsl.graph import ProcessorGraphNode
from strom.dsl.ops.stateless import PassThroughProcessor
from strom.dsl.ops.stream_join import (
    LEFT,
    RIGHT,
    JoinWindowSupplier,
    OuterKeySerde,
    SideValueSerde,
    StreamJoinSupplier,
)
from strom.dsl.stores import materialize_buffer
from strom.serdes.coerce import serde_for
from strom.state import Stores
from strom.windows import JoinWindows

if TYPE_CHECKING:
    from strom.dsl.kstream import KStream


def _window_store(
    builder: Any, name: str, windows: JoinWindows, key_serde: Any, value_serde: Any
) -> Any:
    retention = windows.before_ms + windows.after_ms + windows.grace_ms
    size = windows.before_ms + windows.after_ms
    kind = str(builder.config.get("default.dsl.store", "rocksDB")).lower()
    factory = Stores.in_memory_window_store if "memory" in kind else Stores.persistent_window_store
    builder.graph.store_names.add(name)
    return Stores.window_store_builder(
        factory(name, retention, size, retain_duplicates=True), key_serde, value_serde
    )


def build_stream_stream_join(
    left: KStream,
    right: KStream,
    op: str,
    joiner: Any,
    windows: Any,
    name: str | None,
    left_join: bool,
    outer: bool,
    kwargs: dict[str, Any],
) -> KStream:
    from strom.dsl.kstream import KStream

    if not isinstance(windows, JoinWindows):
        raise TopologyError(f"{op}() of two streams needs JoinWindows, got {windows!r}")
    if left._builder is not right._builder:
        raise TopologyError(f"{op}(): both streams must come from the same builder")
    builder = left._builder
    graph = builder.graph
    ks = serde_for(kwargs.pop("key_serde", None)) or left.key_serde
    lvs = serde_for(kwargs.pop("value_serde", None)) or left.value_serde
    rvs = serde_for(kwargs.pop("other_value_serde", None)) or right.value_serde
    this_store_name = kwargs.pop("this_store", None)
    other_store_name = kwargs.pop("other_store", None)
    if kwargs:
        raise TopologyError(f"{op}() got unexpected arguments {sorted(kwargs)}")
    lineage = graph.lineage([left._node, right._node], op)
    base = name or graph.derived("KSTREAM-JOIN", lineage)
    this_store = this_store_name or (
        f"{name}-this-join-store" if name else graph.derived("KSTREAM-JOINTHIS-STORE", lineage)
    )
    other_store = other_store_name or (
        f"{name}-other-join-store" if name else graph.derived("KSTREAM-JOINOTHER-STORE", lineage)
    )
    outer_store = None
    stores: list[Any] = []
    if left_join or outer:
        outer_store = (
            f"{name}-outer-shared-join-store"
            if name
            else graph.derived("KSTREAM-OUTERSHARED-STORE", lineage)
        )
        stores.append(
            materialize_buffer(builder, outer_store, OuterKeySerde(ks), SideValueSerde(lvs, rvs))
        )
    this_window = ProcessorGraphNode(
        f"{base}-this-windowed",
        f"{lineage}/this-windowed",
        [left._node],
        supplier=JoinWindowSupplier(this_store),
        stores=[_window_store(builder, this_store, windows, ks, lvs)],
    )
    other_window = ProcessorGraphNode(
        f"{base}-other-windowed",
        f"{lineage}/other-windowed",
        [right._node],
        supplier=JoinWindowSupplier(other_store),
        stores=[_window_store(builder, other_store, windows, ks, rvs)],
    )
    graph.add(this_window)
    graph.add(other_window)
    common = {
        "before_ms": windows.before_ms,
        "after_ms": windows.after_ms,
        "grace_ms": windows.grace_ms,
        "left_join": left_join,
    }
    this_join = ProcessorGraphNode(
        f"{base}-this-join",
        f"{lineage}/this-join",
        [this_window],
        supplier=StreamJoinSupplier(
            base,
            LEFT,
            other_store,
            outer_store,
            joiner,
            emit_unmatched=left_join or outer,
            **common,
        ),
        stores=stores,
        store_names=[other_store],
        copartition=graph.source_topics_of(left._node) | graph.source_topics_of(right._node),
    )
    other_join = ProcessorGraphNode(
        f"{base}-other-join",
        f"{lineage}/other-join",
        [other_window],
        supplier=StreamJoinSupplier(
            base, RIGHT, this_store, outer_store, joiner, emit_unmatched=outer, **common
        ),
        store_names=[this_store] + ([outer_store] if outer_store else []),
    )
    graph.add(this_join)
    graph.add(other_join)
    merge = ProcessorGraphNode(
        f"{base}-merge", f"{lineage}/merge", [this_join, other_join], supplier=PassThroughProcessor
    )
    graph.add(merge)
    return KStream(builder, merge, ks, None, False)
