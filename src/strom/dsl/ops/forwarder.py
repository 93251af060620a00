"""Forward table updates now, or when the store's cache lets them out (Kafka's
TimestampedTupleForwarder with its cache flush listener)."""

from __future__ import annotations

from typing import Any

from strom.dsl.ops.change import Change
from strom.processor.record import Record
from strom.state.api import ValueAndTimestamp


class TupleForwarder:
    """Forwards ``Change`` records of a processor that writes a timestamped store."""

    __slots__ = ("cached", "forward", "send_old_values")

    def __init__(self, store: Any, context: Any, send_old_values: bool) -> None:
        self.forward = context.forward  # this node's forward, also from a cache flush
        self.send_old_values = send_old_values
        setter = getattr(store, "set_flush_listener", None)
        self.cached = bool(setter and setter(self._on_flush, send_old_values))

    def maybe_forward(self, record: Record[Any, Change]) -> None:
        if not self.cached:
            self.forward(record)

    def _on_flush(
        self,
        key: Any,
        new: ValueAndTimestamp[Any] | None,
        old: ValueAndTimestamp[Any] | None,
        timestamp: int,
    ) -> None:
        change = Change(
            None if new is None else new.value,
            None if old is None or not self.send_old_values else old.value,
        )
        # the stored value's timestamp (e.g. max of an aggregate's inputs); deletes: the writer's
        ts = timestamp if new is None else new.timestamp
        self.forward(Record(key, change, ts))
