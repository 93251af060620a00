"""Changelogging for window and session stores (Kafka's ``ChangeLoggingWindowBytesStore``,
``ChangeLoggingTimestampedWindowBytesStore`` and ``ChangeLoggingSessionBytesStore``).

Each write that the store below accepts is sent to the changelog under its binary key (the
Kafka layout: ``key + start + seq`` for windows, ``key + end + start`` for sessions) with the
timestamp of the record being processed. Expired writes, which the store ignores, are not
logged. Reads pass straight through.
"""

from __future__ import annotations

import struct
from typing import Any

from strom.state.api import StateStore, StateStoreContext
from strom.state.segments import Entries

_TS = struct.Struct(">q")


class _ChangeLogging(StateStore):
    """What both kinds share: lifecycle and reads pass through."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.name = wrapped.name
        self._context: StateStoreContext | None = None

    def init(self, context: StateStoreContext, root: StateStore) -> None:
        self.wrapped.init(context, root)
        self._context = context
        self._log_change = context.log_change
        self.get = self.wrapped.get
        self.fetch = self.wrapped.fetch

    def _log(self, c: bytes, value: bytes | None) -> None:
        self._log_change(self.name, c, value, self._context.record_timestamp)  # type: ignore[union-attr]

    def get(self, *args: Any) -> bytes | None:
        return self.wrapped.get(*args)

    def fetch(
        self,
        key_from: bytes | None,
        key_to: bytes | None,
        time_from: int,
        time_to: int,
        backward: bool = False,
    ) -> Entries:
        return self.wrapped.fetch(key_from, key_to, time_from, time_to, backward)

    @property
    def retention_period(self) -> int:
        return self.wrapped.retention_period

    @property
    def segment_interval(self) -> int:
        return self.wrapped.segment_interval

    @property
    def observed_stream_time(self) -> int:
        return self.wrapped.observed_stream_time

    @property
    def expired_records(self) -> int:
        return self.wrapped.expired_records

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


class ChangeLoggingWindowBytesStore(_ChangeLogging):
    """Logs each accepted window write as ``(key + start + seq, value or None)``.

    >>> from strom.state.window import InMemoryWindowStore
    >>> ChangeLoggingWindowBytesStore(InMemoryWindowStore("w", 120_000, 60_000)).window_size
    60000
    """

    @property
    def window_size(self) -> int:
        return self.wrapped.window_size

    @property
    def retain_duplicates(self) -> bool:
        return self.wrapped.retain_duplicates

    def put(self, key: bytes, value: bytes | None, window_start: int) -> bytes | None:
        c = self.wrapped.put(key, value, window_start)
        if c is not None:
            self._log(c, value)
        return c

    def put_binary(self, c: bytes, value: bytes | None) -> bool:
        """Write and log one binary key as it is (the caching layer flushes this way)."""
        if self.wrapped.put_binary(c, value):
            self._log(c, value)
            return True
        return False

    def get_binary(self, c: bytes) -> bytes | None:
        return self.wrapped.get_binary(c)


class ChangeLoggingTimestampedWindowBytesStore(ChangeLoggingWindowBytesStore):
    """For stores of timestamped values (8-byte timestamp + value): the changelog record
    holds the plain value with the value's timestamp as its own, as in Kafka."""

    def _log(self, c: bytes, value: bytes | None) -> None:
        if value is None:
            self._log_change(self.name, c, None, self._context.record_timestamp)  # type: ignore[union-attr]
        else:
            self._log_change(self.name, c, value[8:], _TS.unpack_from(value)[0])


class ChangeLoggingSessionBytesStore(_ChangeLogging):
    """Logs each accepted session write as ``(key + end + start, value or None)``.

    >>> from strom.state.session import InMemorySessionStore
    >>> ChangeLoggingSessionBytesStore(InMemorySessionStore("s", 60_000)).name
    's'
    """

    def put(self, c: bytes, value: bytes | None) -> bool:
        if self.wrapped.put(c, value):
            self._log(c, value)
            return True
        return False
