"""Sliding-window aggregation (KIP-450): a window ``[t - d, t]`` for every record, and right
windows ``[t + 1, t + 1 + d]`` while records follow within ``d``; both ends inclusive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strom.core.errors import StreamsError
from strom.dsl.ops.aggregate import skip
from strom.dsl.ops.change import Change
from strom.dsl.ops.forwarder import TupleForwarder
from strom.dsl.ops.window_aggregate import _EmitFinal, expired
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.state.api import ValueAndTimestamp
from strom.windows import SlidingWindows, Window, Windowed

VT = ValueAndTimestamp


class SlidingAggregateSupplier:
    def __init__(
        self,
        store_name: str,
        windows: SlidingWindows,
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

    def __call__(self) -> SlidingAggregateProcessor:
        return SlidingAggregateProcessor(self)


class SlidingAggregateProcessor(Processor[Any, Any]):
    def __init__(self, s: SlidingAggregateSupplier) -> None:
        self.s = s
        self.observed = -1

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        self.d = self.s.windows.time_difference_ms
        self.grace = self.s.windows.grace_ms
        self.emit = _EmitFinal(context, self.s.store_name) if self.s.emit_on_close else None
        if self.emit is None:
            self.forwarder = TupleForwarder(self.store, context, self.s.send_old_values)

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is None or record.value is None:
            skip(self.context, "null key or value", record)
            return
        t, d = record.timestamp, self.d
        if t > self.observed:
            self.observed = t
        close = self.observed - self.grace
        if t + d < close:
            expired(self.context, record, f"[{t - d},{t}]", close, self.observed)
            return
        if t < d:
            self._early(record, close)
            return
        self._reverse(record, close)
        if self.emit is not None:
            self._emit_final(record, close)

    # ---- the windows a record touches ----------------------------------------------------
    def _reverse(self, record: Record[Any, Any], close: int) -> None:
        t, d, key = record.timestamp, self.d, record.key
        starts: set[int] = set()
        left_agg: VT[Any] | None = None
        right_agg: VT[Any] | None = None
        prev_ts: int | None = None
        left_exists = right_exists = False
        for start, vt in self.store.backward_fetch(key, max(0, t - 2 * d), t + 1):
            starts.add(start)
            end = start + d
            if start == t + 1:
                right_exists = True
            elif end > t:
                if right_agg is None:
                    right_agg = vt
                self._update(record, start, vt, close)
            elif end == t:
                left_exists = True
                self._update(record, start, vt, close)
                if vt.timestamp < t:
                    prev_ts = vt.timestamp
                else:
                    return  # a record with this timestamp was here: no window to create
            else:
                left_agg = vt
                prev_ts = vt.timestamp
                break
        init = self.s.initializer
        if prev_ts is not None and prev_ts + 1 not in starts and prev_ts + 1 + d >= t:
            self._update(record, prev_ts + 1, VT(init(), t), close)  # previous record's right
        if not left_exists:
            base = (
                left_agg.value
                if prev_ts is not None and left_agg is not None and t - d <= prev_ts
                else init()
            )
            self._update(record, t - d, VT(base, t), close)
        if not right_exists and right_agg is not None and right_agg.timestamp > t:
            self._copy_right(record, right_agg)

    def _early(self, record: Record[Any, Any], close: int) -> None:
        """0 <= t < d: windows cannot start below 0, so [0, d] holds the early records."""
        t, key = record.timestamp, record.key
        starts: set[int] = set()
        combined: VT[Any] | None = None
        right_agg: VT[Any] | None = None
        prev_ts: int | None = None
        right_exists = False
        for start, vt in self.store.fetch(key, 0, t + 1):
            starts.add(start)
            if start == 0:
                combined = vt
                if vt.timestamp < t:
                    prev_ts = vt.timestamp
            elif start <= t:
                right_agg = vt
                self._update(record, start, vt, close)
            elif start == t + 1:
                right_exists = True
            else:
                raise StreamsError("Unexpected window found when processing sliding windows")
        if right_agg is None and combined is not None and combined.timestamp > t:
            right_agg = combined
        if not right_exists and right_agg is not None and right_agg.timestamp > t:
            self._copy_right(record, right_agg)
        init = self.s.initializer
        if prev_ts is not None and prev_ts + 1 not in starts:
            self._update(record, prev_ts + 1, VT(init(), t), close)
        self._update(record, 0, combined if combined is not None else VT(init(), t), close)

    def _copy_right(self, record: Record[Any, Any], agg: VT[Any]) -> None:
        """The record's right window: what follows it, without it."""
        start = record.timestamp + 1
        self.store.put(record.key, agg, start)
        self._forward(record, start, agg.value, None, agg.timestamp)

    def _update(self, record: Record[Any, Any], start: int, vt: VT[Any], close: int) -> None:
        end = start + self.d
        if end < close:
            expired(self.context, record, f"[{start},{end}]", close, self.observed)
            return
        t = record.timestamp
        old = vt.value
        new = self.s.aggregator(record.key, record.value, old)
        ts = t if old is None else max(t, vt.timestamp)
        self.store.put(record.key, None if new is None else VT(new, ts), start)
        self._forward(record, start, new, old, ts)

    def _forward(self, record: Record[Any, Any], start: int, new: Any, old: Any, ts: int) -> None:
        if self.emit is None:
            self.forwarder.maybe_forward(
                Record(
                    Windowed(record.key, Window(start, start + self.d)),
                    Change(new, old if self.s.send_old_values else None),
                    ts,
                    record.headers,
                )
            )

    def _emit_final(self, record: Record[Any, Any], close: int) -> None:
        emit = self.emit
        assert emit is not None
        if not emit.due(close):
            return
        upper = close - self.d - 1  # windows ending before the close time
        if upper < 0:
            return
        last = emit.last_close
        lower = 0 if last == -1 else max(0, last - self.d)
        rows = sorted(self.store.fetch_all(lower, upper), key=lambda kv: kv[0].window.start)
        for windowed, vt in rows:
            self.context.forward(
                Record(windowed, Change(vt.value, None), vt.timestamp, record.headers)
            )
        emit.emitted(close)
