"""KTable-KTable joins (inner, left, outer): an update on either side looks the other side
up and forwards the joined Change; the result's timestamp is the later of the two rows'."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strom.dsl.ops.aggregate import skip
from strom.dsl.ops.change import Change
from strom.dsl.ops.getters import ValueGetterSupplier
from strom.dsl.ops.table import MaterializedTableProcessor
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.state.api import ValueAndTimestamp

INNER, LEFT, OUTER = "inner", "left", "outer"


class TableJoinSupplier:
    """One side of a table-table join. ``this_outer``/``other_outer``: whether rows of this
    side (other side) come out without a match, joined with None."""

    def __init__(
        self,
        other: ValueGetterSupplier,
        joiner: Callable[[Any, Any], Any],
        this_is_left: bool,
        this_outer: bool,
        other_outer: bool,
    ) -> None:
        self.other = other
        self.joiner = joiner
        self.this_is_left = this_is_left
        self.this_outer = this_outer
        self.other_outer = other_outer
        self.send_old_values = False

    def __call__(self) -> TableJoinProcessor:
        return TableJoinProcessor(self)


class TableJoinProcessor(Processor[Any, Any]):
    def __init__(self, s: TableJoinSupplier) -> None:
        self.s = s

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.lookup = self.s.other.get(context)

    def _join(self, mine: Any, other: Any) -> Any:
        s = self.s
        return s.joiner(mine, other) if s.this_is_left else s.joiner(other, mine)

    def process(self, record: Record[Any, Change]) -> None:
        s = self.s
        key, change = record.key, record.value
        if key is None:
            skip(self.context, "null key", record)
            return
        vt = self.lookup(key)
        other = None if vt is None else vt.value
        if other is None:
            if not s.this_outer or (change.new is None and change.old is None):
                return
            ts = record.timestamp
        else:
            ts = max(record.timestamp, vt.timestamp)  # type: ignore[union-attr]
        new = old = None
        if change.new is not None:
            new = self._join(change.new, other)
        elif other is not None and s.other_outer:
            new = self._join(None, other)  # this row is gone; the other stays, unmatched
        if s.send_old_values:
            if change.old is not None:
                old = self._join(change.old, other)
            elif other is not None and s.other_outer:
                old = self._join(None, other)
        self.context.forward(Record(key, Change(new, old), ts, record.headers))


class TableJoinMergeSupplier:
    """Where both sides' results meet; materializes the join when it has a store."""

    def __init__(self, store_name: str | None) -> None:
        self.store_name = store_name
        self.send_old_values = False
        self.sides: list[TableJoinSupplier] = []

    def __call__(self) -> TableJoinMergeProcessor:
        return TableJoinMergeProcessor(self)


class TableJoinMergeProcessor(MaterializedTableProcessor):
    def process(self, record: Record[Any, Change]) -> None:
        if self.store is None:
            self.context.forward(record)
            return
        key, change = record.key, record.value
        previous = self.store.get(key)
        old = None if previous is None else previous.value
        new = change.new
        self.store.put(key, None if new is None else ValueAndTimestamp(new, record.timestamp))
        if not self.forwarder.cached:
            self.forwarder.forward(
                record.with_value(Change(new, old if self.s.send_old_values else None))
            )
