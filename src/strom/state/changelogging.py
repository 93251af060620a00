"""The changelogging layer: every write to the store below is also sent to the store's changelog
(Kafka's ``ChangeLoggingKeyValueBytesStore``)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from strom.state.api import KeyValueStore, StateStore, StateStoreContext

_TS = struct.Struct(">q")


class ChangeLoggingKeyValueBytesStore(KeyValueStore[bytes, bytes]):
    """Wraps a bytes store; after each write, logs ``(key, value or None)`` to the changelog
    with the timestamp of the record being processed. Reads pass straight through.

    It registers nothing: the top of the stack registers the store and its restore callback.

    >>> from strom.state.memory import InMemoryKeyValueStore
    >>> logged = ChangeLoggingKeyValueBytesStore(InMemoryKeyValueStore("counts"))
    >>> logged.name
    'counts'
    """

    def __init__(self, wrapped: KeyValueStore[bytes, bytes]) -> None:
        self.wrapped = wrapped
        self.name = wrapped.name
        self._context: StateStoreContext | None = None

    def init(self, context: StateStoreContext, root: StateStore) -> None:
        self.wrapped.init(context, root)
        self._context = context
        self._log_change = context.log_change
        set_listener = getattr(self.wrapped, "set_eviction_listener", None)
        if set_listener is not None:  # an LRU map: what it drops is deleted in the changelog
            set_listener(self._log_eviction)

    def _log_eviction(self, key: bytes, _value: bytes) -> None:
        self._log_change(self.name, key, None, self._context.record_timestamp)  # type: ignore[union-attr]

    def _log(self, key: bytes, value: bytes | None) -> None:
        self._log_change(self.name, key, value, self._context.record_timestamp)  # type: ignore[union-attr]

    # -- writes ----------------------------------------------------------------------------
    def put(self, key: bytes, value: bytes | None) -> None:
        self.wrapped.put(key, value)
        self._log(key, value)

    def put_if_absent(self, key: bytes, value: bytes) -> bytes | None:
        old = self.wrapped.get(key)
        if old is None:
            self.put(key, value)
        return old

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        entries = list(entries)
        self.wrapped.put_all(entries)
        for key, value in entries:
            self._log(key, value)

    def delete(self, key: bytes) -> bytes | None:
        old = self.wrapped.delete(key)
        self._log(key, None)
        return old

    # -- pass-through ----------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        return self.wrapped.get(key)

    def range(self, from_key: bytes | None, to_key: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        return self.wrapped.range(from_key, to_key)

    def reverse_range(
        self, from_key: bytes | None, to_key: bytes | None
    ) -> Iterator[tuple[bytes, bytes]]:
        return self.wrapped.reverse_range(from_key, to_key)

    def all(self) -> Iterator[tuple[bytes, bytes]]:
        return self.wrapped.all()

    def reverse_all(self) -> Iterator[tuple[bytes, bytes]]:
        return self.wrapped.reverse_all()

    def prefix_scan(self, prefix: bytes, prefix_serde: Any = None) -> Iterator[tuple[bytes, bytes]]:
        return self.wrapped.prefix_scan(prefix, prefix_serde)

    def approximate_num_entries(self) -> int:
        return self.wrapped.approximate_num_entries()

    def flush(self) -> None:
        self.wrapped.flush()

    def close(self) -> None:
        self.wrapped.close()

    @property
    def persistent(self) -> bool:
        return self.wrapped.persistent

    @property
    def is_open(self) -> bool:
        return self.wrapped.is_open

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r})"


class ChangeLoggingTimestampedKeyValueBytesStore(ChangeLoggingKeyValueBytesStore):
    """Changelogging for timestamped stores, whose values are an 8-byte big-endian timestamp
    followed by the value: the changelog record carries the plain value and that timestamp
    as its own, as in Kafka (restoration puts the timestamp back in front)."""

    def _log(self, key: bytes, value: bytes | None) -> None:
        if value is None:
            self._log_change(self.name, key, None, self._context.record_timestamp)  # type: ignore[union-attr]
        else:
            self._log_change(self.name, key, value[8:], _TS.unpack_from(value)[0])
