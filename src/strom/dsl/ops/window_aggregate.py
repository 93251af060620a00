"""Windowed aggregations: time windows (tumbling, hopping) and session windows.

Each processor keeps its own observed stream time (the highest timestamp it has seen) and
drops a record for a window that has closed (end + grace, and for sessions + gap, behind it),
logging it and counting it in the task's dropped-records metric, once per window, as Kafka
Streams does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from strom.dsl.ops.aggregate import skip
from strom.dsl.ops.change import Change
from strom.dsl.ops.forwarder import TupleForwarder
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.state.api import ValueAndTimestamp
from strom.windows import SessionWindows, TimeWindows, Window, Windowed

log = logging.getLogger("strom.dsl")

#: Kafka's internal config for how often (wall clock) emit-on-close looks for closed windows.
EMIT_INTERVAL = "__emit.interval.ms.kstreams.windowed.aggregation__"


def expired(context: Any, record: Record[Any, Any], window: str, close: int, observed: int) -> None:
    meta = context.record_metadata()
    where = (
        f"topic=[{meta.topic}] partition=[{meta.partition}] offset=[{meta.offset}]"
        if meta
        else "Topic, partition, and offset not known."
    )
    log.warning(
        "Skipping record for expired window. %s timestamp=[%s] window=%s expiration=[%s] "
        "streamTime=[%s]",
        where,
        record.timestamp,
        window,
        close,
        observed,
    )
    metrics = getattr(context, "metrics", None)
    if metrics is not None:
        metrics.dropped_records += 1


class WindowAggregateSupplier:
    """Makes time-window aggregate processors (reduce: an initializer giving None)."""

    def __init__(
        self,
        store_name: str,
        windows: TimeWindows,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        emit_on_close: bool,
    ) -> None:
        self.store_name = store_name
        self.windows = windows
        self.initializer = initializer
        self.aggregator = aggregator
        self.emit_on_close = emit_on_close
        self.send_old_values = False

    def __call__(self) -> TimeWindowAggregateProcessor:
        return TimeWindowAggregateProcessor(self)


def emit_final_store(store_name: str) -> str:
    """The small logged store where an emit-on-close aggregation keeps its progress."""
    return f"{store_name}-emit-final"


class _EmitFinal:
    """Emit-on-close bookkeeping (KIP-825): throttled by the wall clock, once per window.

    The close time of the last emission is kept in a logged store, so that a restarted task
    does not emit the windows it has already emitted (Kafka keeps it in commit metadata).
    """

    def __init__(self, context: ProcessorContext, store_name: str) -> None:
        self.context = context
        self.interval = int(context.app_configs.get(EMIT_INTERVAL, 1000))
        self.next_time = -1
        self.progress = context.get_state_store(emit_final_store(store_name))
        last = self.progress.get("last")
        self.last_close = -1 if last is None else int(last)

    def due(self, close: int) -> bool:
        now = self.context.current_system_time_ms()
        if now < self.next_time:
            return False
        self.next_time = now + self.interval
        return self.last_close == -1 or self.last_close < close

    def emitted(self, close: int) -> None:
        self.last_close = close
        self.progress.put("last", close)


class TimeWindowAggregateProcessor(Processor[Any, Any]):
    def __init__(self, s: WindowAggregateSupplier) -> None:
        self.s = s
        self.observed = -1

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        self.windows = self.s.windows
        self.grace = self.s.windows.grace_ms
        self.emit = _EmitFinal(context, self.s.store_name) if self.s.emit_on_close else None
        if self.emit is None:
            self.forwarder = TupleForwarder(self.store, context, self.s.send_old_values)

    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        if key is None:
            skip(self.context, "null key", record)
            return
        ts = record.timestamp
        if ts > self.observed:
            self.observed = ts
        close = self.observed - self.grace
        s, store = self.s, self.store
        for start, window in self.windows.windows_for(ts).items():
            if window.end <= close:
                expired(self.context, record, f"[{start},{window.end})", close, self.observed)
                continue
            old = store.fetch(key, start)
            if old is None:
                old_agg = s.initializer()
                new_ts = ts
            else:
                old_agg = old.value
                new_ts = max(ts, old.timestamp)
            new_agg = s.aggregator(key, record.value, old_agg)
            store.put(key, None if new_agg is None else ValueAndTimestamp(new_agg, new_ts), start)
            if self.emit is None:
                self.forwarder.maybe_forward(
                    Record(
                        Windowed(key, window),
                        Change(new_agg, old_agg if s.send_old_values else None),
                        new_ts,
                        record.headers,
                    )
                )
        if self.emit is not None:
            self._emit_final(record, close)

    def _emit_final(self, record: Record[Any, Any], close: int) -> None:
        emit = self.emit
        assert emit is not None
        if not emit.due(close):
            return
        size = self.windows.size_ms
        upper = close - size  # windows ending at or before the close time
        if upper < 0:
            return
        last = emit.last_close
        lower = 0 if last == -1 else max(0, last - size) + 1
        if last != -1 and self.windows.windows_for(upper) == self.windows.windows_for(lower - 1):
            return
        rows = sorted(self.store.fetch_all(lower, upper), key=lambda kv: kv[0].window.start)
        for windowed, vt in rows:
            self.context.forward(
                Record(windowed, Change(vt.value, None), vt.timestamp, record.headers)
            )
        emit.emitted(close)


class SessionAggregateSupplier:
    """Makes session-window aggregate processors."""

    def __init__(
        self,
        store_name: str,
        windows: SessionWindows,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        merger: Callable[[Any, Any, Any], Any],
        emit_on_close: bool,
    ) -> None:
        self.store_name = store_name
        self.windows = windows
        self.initializer = initializer
        self.aggregator = aggregator
        self.merger = merger
        self.emit_on_close = emit_on_close
        self.send_old_values = False

    def __call__(self) -> SessionAggregateProcessor:
        return SessionAggregateProcessor(self)


class SessionAggregateProcessor(Processor[Any, Any]):
    def __init__(self, s: SessionAggregateSupplier) -> None:
        self.s = s
        self.observed = -1

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        self.gap = self.s.windows.inactivity_gap_ms
        self.grace = self.s.windows.grace_ms
        self.emit = _EmitFinal(context, self.s.store_name) if self.s.emit_on_close else None
        self.cached = False
        if self.emit is None:
            setter = getattr(self.store, "set_flush_listener", None)
            self.cached = bool(setter and setter(self._on_flush, self.s.send_old_values))

    def _on_flush(self, key: Windowed[Any], new: Any, old: Any, timestamp: int) -> None:
        old = old if self.s.send_old_values else None
        self.context.forward(Record(key, Change(new, old), key.window.end))

    def _update(self, key: Windowed[Any], new: Any, old: Any, headers: Any) -> None:
        if self.emit is None and not self.cached:
            old = old if self.s.send_old_values else None
            self.context.forward(Record(key, Change(new, old), key.window.end, headers))

    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        if key is None:
            skip(self.context, "null key", record)
            return
        s, store, ts = self.s, self.store, record.timestamp
        if ts > self.observed:
            self.observed = ts
        close = self.observed - self.grace - self.gap
        merged = list(store.find_sessions(key, ts - self.gap, ts + self.gap))
        agg = s.initializer()
        start = end = ts
        for windowed, value in merged:
            agg = s.merger(key, agg, value)
            start = min(start, windowed.window.start)
            end = max(end, windowed.window.end)
        if end < close:
            expired(self.context, record, f"[{start},{end}]", close, self.observed)
        else:
            if (start, end) != (ts, ts):
                for windowed, value in merged:
                    store.remove(windowed)
                    self._update(windowed, None, value, record.headers)
            agg = s.aggregator(key, record.value, agg)
            session = Windowed(key, Window(start, end))
            store.put(session, agg)
            self._update(session, agg, None, record.headers)
        if self.emit is not None:
            self._emit_final(record, close)

    def _emit_final(self, record: Record[Any, Any], close: int) -> None:
        emit = self.emit
        assert emit is not None
        if not emit.due(close):
            return
        upper = close - 1
        lower = max(0, emit.last_close)
        if upper < lower:
            return
        for windowed, value in self.store.find_sessions_ending(lower, upper):
            self.context.forward(
                Record(windowed, Change(value, None), windowed.window.end, record.headers)
            )
        emit.emitted(close)
