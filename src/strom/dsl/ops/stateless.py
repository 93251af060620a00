"""Stateless KStream processors: one small class per operator, direct calls only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strom.core.errors import StreamsError
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.topology.nodes import blame


class _Op(Processor[Any, Any]):
    """A one-in, one-out-per-result operator whose records keep their input's timestamp.

    ``target`` sends a result on: the first call resolves it (the task binds its nodes after
    init) to the one child's process callable, called directly, or else to ``forward``. The
    direct call skips what ``forward`` does that cannot matter here (the task's record
    timestamp is already this record's), and names the child on its exceptions as
    ``forward`` does.
    """

    __slots__ = ("child", "context", "fn", "forward", "target")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.forward = context.forward
        self.child: str | None = None
        self.target: Callable[[Record[Any, Any]], None] = self._first

    def _first(self, record: Record[Any, Any]) -> None:
        only_child = getattr(self.context, "only_child", None)
        only = only_child() if only_child is not None else None
        if only is None:
            self.target = self.forward
        else:
            self.target, self.child = only
        self.target(record)

    def _send(self, record: Record[Any, Any]) -> None:
        try:
            self.target(record)
        except Exception as e:
            if self.child is not None:
                blame(e, self.child)
            raise


class FilterProcessor(_Op):
    __slots__ = ("keep",)

    def __init__(self, fn: Callable[[Any, Any], bool], keep: bool = True) -> None:
        super().__init__(fn)
        self.keep = keep

    def process(self, record: Record[Any, Any]) -> None:
        if bool(self.fn(record.key, record.value)) is self.keep:
            self._send(record)


class MapProcessor(_Op):
    """``map``: ``fn(key, value) -> (key, value)``."""

    def process(self, record: Record[Any, Any]) -> None:
        pair = self.fn(record.key, record.value)
        try:
            key, value = pair
        except (TypeError, ValueError):
            raise StreamsError(
                f"map's function must return a (key, value) pair, returned {pair!r}"
            ) from None
        r = record.with_key(key)
        r.value = value
        self._send(r)


class MapValuesProcessor(_Op):
    def process(self, record: Record[Any, Any]) -> None:
        r = record.with_value(self.fn(record.value))
        self._send(r)


class SelectKeyProcessor(_Op):
    def process(self, record: Record[Any, Any]) -> None:
        r = record.with_key(self.fn(record.key, record.value))
        self._send(r)


class FlatMapProcessor(_Op):
    """``flat_map``: ``fn(key, value) -> iterable of (key, value)``."""

    def process(self, record: Record[Any, Any]) -> None:
        out = self.fn(record.key, record.value)
        if out is None:
            raise StreamsError("flat_map's function returned None; return an iterable of pairs")
        for pair in out:
            try:
                key, value = pair
            except (TypeError, ValueError):
                raise StreamsError(
                    f"flat_map's function must yield (key, value) pairs, yielded {pair!r}"
                ) from None
            r = record.with_key(key)
            r.value = value
            self._send(r)


class FlatMapValuesProcessor(_Op):
    def process(self, record: Record[Any, Any]) -> None:
        out = self.fn(record.value)
        if out is None:
            raise StreamsError("flat_map_values' function returned None; return an iterable")
        with_value = record.with_value
        for value in out:
            r = with_value(value)
            self._send(r)


class PeekProcessor(_Op):
    """``peek`` (forwards) and ``foreach`` (terminal: has no children)."""

    def process(self, record: Record[Any, Any]) -> None:
        self.fn(record.key, record.value)
        self._send(record)


class PassThroughProcessor(Processor[Any, Any]):
    """Forwards every record unchanged (``merge``, branch fan-out points)."""

    def init(self, context: ProcessorContext) -> None:
        self.process = context.forward  # type: ignore[method-assign]

    def process(self, record: Record[Any, Any]) -> None:  # replaced in init
        raise AssertionError("not initialised")


class BranchProcessor(Processor[Any, Any]):
    """``split()``: the first matching predicate wins; its branch child gets the record."""

    def __init__(
        self,
        predicates: list[Callable[[Any, Any], bool]],
        children: list[str],
        default_child: str | None,
    ) -> None:
        self.predicates = predicates
        self.children = children
        self.default_child = default_child

    def init(self, context: ProcessorContext) -> None:
        self.forward = context.forward
        self.routes = list(zip(self.predicates, self.children))

    def process(self, record: Record[Any, Any]) -> None:
        key, value = record.key, record.value
        for predicate, child in self.routes:
            if predicate(key, value):
                self.forward(record, child)
                return
        if self.default_child is not None:
            self.forward(record, self.default_child)


class RepartitionFilterProcessor(_Op):
    """Drops records with a None key before a repartition topic, as Kafka does."""

    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is not None:
            self._send(record)
