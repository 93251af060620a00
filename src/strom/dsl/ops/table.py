"""KTable processors: source, filter, map_values, to_stream and group_by's re-keying.

Table nodes forward :class:`Change` values. A node sends old values only when something
downstream needs them (an aggregation's subtractor, a join); that is set before build.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from strom.core.errors import StreamsError
from strom.dsl.ops.aggregate import skip
from strom.dsl.ops.change import Change
from strom.dsl.ops.forwarder import TupleForwarder
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.state.api import ValueAndTimestamp

log = logging.getLogger("strom.dsl")


class TableSupplier:
    """Base of table processor suppliers: the store (if materialized) and old-value flag."""

    def __init__(self, store_name: str | None = None) -> None:
        self.store_name = store_name
        self.send_old_values = False


class MaterializedTableProcessor(Processor[Any, Any]):
    """A table processor that keeps its result in a store when it is materialized; the
    store's cache (if any) then forwards on flush."""

    def __init__(self, s: Any) -> None:
        self.s = s

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = None
        if self.s.store_name is not None:
            self.store = context.get_state_store(self.s.store_name)
            self.forwarder = TupleForwarder(self.store, context, self.s.send_old_values)


class TableSourceSupplier(TableSupplier):
    """``builder.table()`` and ``KStream.to_table()``: the latest value per key."""

    def __call__(self) -> TableSourceProcessor:
        return TableSourceProcessor(self)


class TableSourceProcessor(MaterializedTableProcessor):
    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        if key is None:
            skip(self.context, "null key", record)
            return
        if self.store is None:
            self.context.forward(record.with_value(Change(record.value, None)))
            return
        old = self.store.get(key)
        old_value = None if old is None else old.value
        if old is not None and record.timestamp < old.timestamp:
            meta = self.context.record_metadata()
            log.warning(
                "Detected out-of-order KTable update for %s, old timestamp=[%s] new "
                "timestamp=[%s]. topic=[%s] partition=[%s] offset=[%s].",
                self.s.store_name,
                old.timestamp,
                record.timestamp,
                meta.topic if meta else None,
                meta.partition if meta else -1,
                meta.offset if meta else -1,
            )
        value = record.value
        self.store.put(key, None if value is None else ValueAndTimestamp(value, record.timestamp))
        self.forwarder.maybe_forward(
            record.with_value(Change(value, old_value if self.s.send_old_values else None))
        )


class TableFilterSupplier(TableSupplier):
    def __init__(
        self, predicate: Callable[[Any, Any], bool], keep: bool, store_name: str | None
    ) -> None:
        super().__init__(store_name)
        self.predicate = predicate
        self.keep = keep

    def __call__(self) -> TableFilterProcessor:
        return TableFilterProcessor(self)


class TableFilterProcessor(MaterializedTableProcessor):
    def _apply(self, key: Any, value: Any) -> Any:
        if value is None:
            return None
        return value if bool(self.s.predicate(key, value)) is self.s.keep else None

    def process(self, record: Record[Any, Change]) -> None:
        key, change = record.key, record.value
        new = self._apply(key, change.new)
        old = None
        if self.s.send_old_values:
            if self.store is None:
                old = self._apply(key, change.old)
            else:
                previous = self.store.get(key)
                old = None if previous is None else previous.value
            if new is None and old is None:
                return  # the row was not in the filtered table before, nor is it now
        if self.store is None:
            self.context.forward(record.with_value(Change(new, old)))
            return
        self.store.put(key, None if new is None else ValueAndTimestamp(new, record.timestamp))
        self.forwarder.maybe_forward(record.with_value(Change(new, old)))


class TableMapValuesSupplier(TableSupplier):
    def __init__(self, mapper: Callable[[Any], Any], store_name: str | None) -> None:
        super().__init__(store_name)
        self.mapper = mapper

    def __call__(self) -> TableMapValuesProcessor:
        return TableMapValuesProcessor(self)


class TableMapValuesProcessor(MaterializedTableProcessor):
    def _map(self, value: Any) -> Any:
        return None if value is None else self.s.mapper(value)

    def process(self, record: Record[Any, Change]) -> None:
        key, change = record.key, record.value
        new = self._map(change.new)
        old = None
        if self.s.send_old_values:
            if self.store is None:
                old = self._map(change.old)
            else:
                previous = self.store.get(key)
                old = None if previous is None else previous.value
        if self.store is None:
            self.context.forward(record.with_value(Change(new, old)))
            return
        self.store.put(key, None if new is None else ValueAndTimestamp(new, record.timestamp))
        self.forwarder.maybe_forward(record.with_value(Change(new, old)))


class TableToStreamProcessor(Processor[Any, Any]):
    """``to_stream()``: the new value of each update (a delete becomes a None value)."""

    def init(self, context: ProcessorContext) -> None:
        self.forward = context.forward

    def process(self, record: Record[Any, Change]) -> None:
        self.forward(record.with_value(record.value.new))


class TableRepartitionMapSupplier:
    """``KTable.group_by``: re-key each update; old and new go out as one Change."""

    def __init__(self, mapper: Callable[[Any, Any], tuple[Any, Any]]) -> None:
        self.mapper = mapper

    def __call__(self) -> TableRepartitionMapProcessor:
        return TableRepartitionMapProcessor(self.mapper)


class TableRepartitionMapProcessor(Processor[Any, Any]):
    def __init__(self, mapper: Callable[[Any, Any], tuple[Any, Any]]) -> None:
        self.mapper = mapper

    def init(self, context: ProcessorContext) -> None:
        self.context = context

    def _map(self, key: Any, value: Any) -> tuple[Any, Any] | None:
        """The (group, value) pair, or None when there is none to send (silently, as Kafka)."""
        if value is None:
            return None
        pair = self.mapper(key, value)
        if pair is None:
            return None
        try:
            k, v = pair
        except (TypeError, ValueError):
            raise StreamsError(
                f"KTable.group_by's function must return a (key, value) pair, returned {pair!r}"
            ) from None
        if k is None or v is None:
            return None
        return k, v

    def process(self, record: Record[Any, Change]) -> None:
        key, change = record.key, record.value
        if key is None:
            raise StreamsError("Record key for the grouping KTable should not be null.")
        new = self._map(key, change.new)
        old = self._map(key, change.old)
        forward = self.context.forward
        if new is not None and old is not None and new[0] == old[0]:
            # same group: one record carrying both, so the aggregate updates once (KIP-904)
            forward(Record(new[0], Change(new[1], old[1]), record.timestamp, record.headers))
            return
        if old is not None:  # subtract from the old group first, then add to the new one
            forward(Record(old[0], Change(None, old[1]), record.timestamp, record.headers))
        if new is not None:
            forward(Record(new[0], Change(new[1], None), record.timestamp, record.headers))
