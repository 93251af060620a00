"""Aggregations: KStream count/reduce/aggregate and KTable aggregate with adder and subtractor."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from strom.dsl.ops.change import Change
from strom.dsl.ops.forwarder import TupleForwarder
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.state.api import ValueAndTimestamp

log = logging.getLogger("strom.dsl")
_tuple_new = tuple.__new__  # ValueAndTimestamp(...) without the NamedTuple's Python frame


def skip(context: Any, what: str, record: Record[Any, Any]) -> None:
    """Log and count a record an operator cannot use (Kafka's dropped-records sensor)."""
    meta = context.record_metadata()
    log.warning(
        "Skipping record due to %s. topic=[%s] partition=[%s] offset=[%s]",
        what,
        meta.topic if meta else None,
        meta.partition if meta else -1,
        meta.offset if meta else -1,
    )
    metrics = getattr(context, "metrics", None)
    if metrics is not None:
        metrics.dropped_records += 1


class StreamAggregateSupplier:
    """Makes KStream aggregate processors; ``send_old_values`` is set by downstream needs."""

    def __init__(
        self,
        store_name: str,
        initializer: Callable[[], Any] | None,
        aggregator: Callable[[Any, Any, Any], Any],
    ) -> None:
        self.store_name = store_name
        self.initializer = initializer  # None: reduce (the first value is the aggregate)
        self.aggregator = aggregator
        self.send_old_values = False

    def __call__(self) -> StreamAggregateProcessor:
        return StreamAggregateProcessor(self)


class StreamAggregateProcessor(Processor[Any, Any]):
    def __init__(self, supplier: StreamAggregateSupplier) -> None:
        self.s = supplier

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        self.forwarder = TupleForwarder(self.store, context, self.s.send_old_values)
        self.initializer = self.s.initializer
        self.aggregator = self.s.aggregator
        self.send_old = self.s.send_old_values
        self.cached = self.forwarder.cached
        self._get, self._put = self.store.get, self.store.put

    def process(self, record: Record[Any, Any]) -> None:
        key, value = record.key, record.value
        if key is None or value is None:
            skip(self.context, "null key or value", record)
            return
        old = self._get(key)
        ts = record.timestamp
        if old is None:
            old_agg = None
            if self.initializer is None:
                new_agg = value
            else:
                new_agg = self.aggregator(key, value, self.initializer())
        else:
            old_agg, old_ts = old
            if old_ts > ts:
                ts = old_ts
            new_agg = self.aggregator(key, value, old_agg)
        self._put(key, _tuple_new(ValueAndTimestamp, (new_agg, ts)))
        if not self.cached:  # a caching store forwards at flush
            self.forwarder.forward(
                Record(key, Change(new_agg, old_agg if self.send_old else None), ts, record.headers)
            )


class TableAggregateSupplier:
    """KGroupedTable aggregate/reduce: subtract the old value, add the new one."""

    def __init__(
        self,
        store_name: str,
        initializer: Callable[[], Any] | None,
        adder: Callable[[Any, Any, Any], Any],
        subtractor: Callable[[Any, Any, Any], Any],
    ) -> None:
        self.store_name = store_name
        self.initializer = initializer  # None: reduce
        self.adder = adder
        self.subtractor = subtractor
        self.send_old_values = False

    def __call__(self) -> TableAggregateProcessor:
        return TableAggregateProcessor(self)


class TableAggregateProcessor(Processor[Any, Any]):
    def __init__(self, supplier: TableAggregateSupplier) -> None:
        self.s = supplier

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        self.forwarder = TupleForwarder(self.store, context, self.s.send_old_values)

    def process(self, record: Record[Any, Change]) -> None:
        key, change = record.key, record.value
        if key is None:
            skip(self.context, "null key", record)
            return
        s = self.s
        old = self.store.get(key)
        old_agg = None if old is None else old.value
        agg = old_agg
        ts = record.timestamp if old is None else max(record.timestamp, old.timestamp)
        # subtract the old value first, then add the new one (Kafka's KTableAggregate)
        if change.old is not None and agg is not None:
            agg = s.subtractor(key, change.old, agg)
        if change.new is not None:
            if agg is None:
                agg = (
                    change.new
                    if s.initializer is None
                    else s.adder(key, change.new, s.initializer())
                )
            else:
                agg = s.adder(key, change.new, agg)
        self.store.put(key, None if agg is None else ValueAndTimestamp(agg, ts))
        self.forwarder.maybe_forward(
            Record(key, Change(agg, old_agg if s.send_old_values else None), ts, record.headers)
        )
