"""Joins: KStream-KTable, KStream-GlobalKTable, KStream-KStream (windowed), KTable-KTable
and foreign-key KTable-KTable, each as Kafka Streams joins them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.dsl.graph import ProcessorGraphNode
from strom.dsl.ops.stream_table_join import StreamTableJoinSupplier

if TYPE_CHECKING:
    from strom.dsl.kstream import KStream
    from strom.dsl.ktable import GlobalKTable, KTable


def _joiner(op: str, fn: Any, shape: str = "(left_value, right_value) -> value") -> None:
    if not callable(fn):
        raise TopologyError(f"{op}() needs a joiner {shape}, got {fn!r}")


def _one(op: str, args: tuple[Any, ...], kwargs: dict[str, Any], names: tuple[str, ...]) -> list:
    """Positional-or-keyword arguments of a join, by name, with a clear error when missing."""
    values = list(args)
    for n in names[len(values) :]:
        if n not in kwargs:
            raise TopologyError(f"{op}() needs {', '.join(names)}; {n} is missing")
        values.append(kwargs.pop(n))
    if len(values) > len(names):
        raise TopologyError(f"{op}() takes {', '.join(names)}; got {len(values)} arguments")
    return values


def _repartitioned(stream: KStream, name: str | None) -> KStream:
    """A stream whose key changed goes through a repartition topic before joining."""
    if not stream._repartition_required:
        return stream
    from strom.dsl.kstream import KStream

    node = stream._repartition_node(
        name or stream._node.name, stream.key_serde, stream.value_serde, "KSTREAM-JOIN"
    )
    return KStream(stream._builder, node, stream.key_serde, stream.value_serde, False)


def stream_table_join(
    stream: KStream,
    op: str,
    table: KTable,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    name: str | None,
    left: bool,
) -> KStream:
    (joiner,) = _one(op, args, kwargs, ("joiner",))
    _joiner(op, joiner)
    if table._builder is not stream._builder:
        raise TopologyError(f"{op}(): the stream and the table must come from the same builder")
    stream = _repartitioned(stream, name)
    getter = table._value_getter()
    graph = stream._builder.graph
    lineage = graph.lineage([stream._node], op)
    node = ProcessorGraphNode(
        name or graph.derived("KSTREAM-JOIN" if not left else "KSTREAM-LEFTJOIN", lineage),
        lineage,
        [stream._node],
        supplier=StreamTableJoinSupplier(getter, joiner, left),
        store_names=list(getter.store_names),
        copartition=graph.source_topics_of(stream._node) | table._source_topics(),
    )
    graph.add(node)
    return stream._stream(node, value_serde=None)


def stream_global_join(
    stream: KStream,
    op: str,
    table: GlobalKTable,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    name: str | None,
    left: bool,
) -> KStream:
    key_mapper, joiner = _one(op, args, kwargs, ("key_mapper", "joiner"))
    if not callable(key_mapper):
        raise TopologyError(
            f"{op}() with a GlobalKTable needs key_mapper(key, value) -> table "
            f"key, got {key_mapper!r}"
        )
    _joiner(op, joiner)
    graph = stream._builder.graph
    lineage = graph.lineage([stream._node], op)
    node = ProcessorGraphNode(
        name or graph.derived("KSTREAM-JOIN" if not left else "KSTREAM-LEFTJOIN", lineage),
        lineage,
        [stream._node],
        supplier=StreamTableJoinSupplier(table._value_getter(), joiner, left, key_mapper),
    )
    graph.add(node)
    return stream._stream(node, value_serde=None)


def stream_stream_join(
    stream: KStream,
    op: str,
    other: KStream,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    name: str | None,
    left: bool,
    outer: bool,
) -> KStream:
    from strom.dsl.stream_join import build_stream_stream_join

    joiner, windows = _one(op, args, kwargs, ("joiner", "windows"))
    _joiner(op, joiner)
    return build_stream_stream_join(
        _repartitioned(stream, f"{name}-left" if name else None),
        _repartitioned(other, f"{name}-right" if name else None),
        op,
        joiner,
        windows,
        name,
        left,
        outer,
        kwargs,
    )


__all__ = ["stream_global_join", "stream_stream_join", "stream_table_join"]
