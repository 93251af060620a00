"""Stateless KStream processors: one small class per operator, direct calls only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strom.core.errors import StreamsError
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record


class _Op(Processor[Any, Any]):
    __slots__ = ("fn", "forward")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def init(self, context: ProcessorContext) -> None:
        self.forward = context.forward


class FilterProcessor(_Op):
    __slots__ = ("keep",)

    def __init__(self, fn: Callable[[Any, Any], bool], keep: bool = True) -> None:
        super().__init__(fn)
        self.keep = keep

    def process(self, record: Record[Any, Any]) -> None:
        if bool(self.fn(record.key, record.value)) is self.keep:
            self.forward(record)


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
        self.forward(r)


class MapValuesProcessor(_Op):
    def process(self, record: Record[Any, Any]) -> None:
        self.forward(record.with_value(self.fn(record.value)))


class SelectKeyProcessor(_Op):
    def process(self, record: Record[Any, Any]) -> None:
        self.forward(record.with_key(self.fn(record.key, record.value)))


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
            self.forward(r)


class FlatMapValuesProcessor(_Op):
    def process(self, record: Record[Any, Any]) -> None:
        out = self.fn(record.value)
        if out is None:
            raise StreamsError("flat_map_values' function returned None; return an iterable")
        for value in out:
            self.forward(record.with_value(value))


class PeekProcessor(_Op):
    """``peek`` (forwards) and ``foreach`` (terminal: has no children)."""

    def process(self, record: Record[Any, Any]) -> None:
        self.fn(record.key, record.value)
        self.forward(record)


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


class RepartitionFilterProcessor(Processor[Any, Any]):
    """Drops records with a None key before a repartition topic, as Kafka does."""

    def init(self, context: ProcessorContext) -> None:
        self.forward = context.forward

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is not None:
            self.forward(record)
