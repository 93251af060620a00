"""The Processor API's record: key, value, timestamp and headers (Kafka's ``api.Record``)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from strom.core.types import EMPTY_HEADERS, Headers, normalize_headers

K = TypeVar("K")
V = TypeVar("V")


class Record(Generic[K, V]):
    """An immutable record; ``with_*`` return a changed copy.

    >>> r = Record("k", 1, timestamp=10)
    >>> r.with_value(2)
    Record(key='k', value=2, timestamp=10, headers=())
    """

    __slots__ = ("headers", "key", "timestamp", "value")

    def __init__(
        self, key: K, value: V, timestamp: int = 0, headers: Headers | Any = EMPTY_HEADERS
    ) -> None:
        if timestamp < 0:
            raise ValueError(f"record timestamp must not be negative: {timestamp}")
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.headers: Headers = (
            headers if headers.__class__ is tuple else normalize_headers(headers)
        )

    def with_key(self, key: Any) -> Record[Any, V]:
        r = _new(Record)
        r.key, r.value, r.timestamp, r.headers = key, self.value, self.timestamp, self.headers
        return r

    def with_value(self, value: Any) -> Record[K, Any]:
        r = _new(Record)
        r.key, r.value, r.timestamp, r.headers = self.key, value, self.timestamp, self.headers
        return r

    def with_timestamp(self, timestamp: int) -> Record[K, V]:
        if timestamp < 0:
            raise ValueError(f"record timestamp must not be negative: {timestamp}")
        r = _new(Record)
        r.key, r.value, r.timestamp, r.headers = self.key, self.value, timestamp, self.headers
        return r

    def with_headers(self, headers: Headers | Any) -> Record[K, V]:
        return Record(self.key, self.value, self.timestamp, headers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return (self.key, self.value, self.timestamp, self.headers) == (
            other.key,
            other.value,
            other.timestamp,
            other.headers,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Record(key={self.key!r}, value={self.value!r}, "
            f"timestamp={self.timestamp}, headers={self.headers!r})"
        )


_new = object.__new__


def make_record(key: Any, value: Any, timestamp: int, headers: Headers) -> Record[Any, Any]:
    """A Record without the checks of ``Record(...)``: for the runtime's hot path, where the
    headers are already canonical (and the timestamp may still be an invalid one, to be
    judged by a timestamp extractor)."""
    r = _new(Record)
    r.key, r.value, r.timestamp, r.headers = key, value, timestamp, headers
    return r
