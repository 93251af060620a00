"""KStream-KTable and KStream-GlobalKTable joins: each stream record looks the table up at
the time it is processed; table updates emit nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strom.dsl.ops.aggregate import skip
from strom.dsl.ops.getters import ValueGetterSupplier
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record


class StreamTableJoinSupplier:
    def __init__(
        self,
        getter: ValueGetterSupplier,
        joiner: Callable[[Any, Any], Any],
        left: bool,
        key_mapper: Callable[[Any, Any], Any] | None = None,
    ) -> None:
        self.getter = getter
        self.joiner = joiner
        self.left = left
        self.key_mapper = key_mapper  # global tables: the table key from (key, value)

    def __call__(self) -> StreamTableJoinProcessor:
        return StreamTableJoinProcessor(self)


class StreamTableJoinProcessor(Processor[Any, Any]):
    def __init__(self, s: StreamTableJoinSupplier) -> None:
        self.s = s

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.lookup = self.s.getter.get(context)
        self.forward = context.forward

    def process(self, record: Record[Any, Any]) -> None:
        s = self.s
        key, value = record.key, record.value
        if value is None or (key is None and (s.key_mapper is None and not s.left)):
            skip(self.context, "null join key or value", record)
            return
        table_key = key if s.key_mapper is None else s.key_mapper(key, value)
        if table_key is None:
            if not s.left:
                skip(self.context, "null join key or value", record)
                return
            other = None
        else:
            vt = self.lookup(table_key)
            other = None if vt is None else vt.value
        if other is None and not s.left:
            return
        self.forward(record.with_value(s.joiner(value, other)))
