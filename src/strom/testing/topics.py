"""Input and output topics of the TopologyTestDriver (Kafka's TestInputTopic/TestOutputTopic)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from strom.core.errors import StromError
from strom.core.records import ConsumerRecord
from strom.core.types import EMPTY_HEADERS, Headers, normalize_headers, to_millis
from strom.serdes.base import Serde

if TYPE_CHECKING:
    from strom.testing.driver import TopologyTestDriver


class NoSuchElementError(StromError, LookupError):
    """Read from an output topic that holds no more records."""


class TestRecord(NamedTuple):
    """A record read from (or piped into) a test topic."""

    __test__ = False  # not a pytest class

    key: Any
    value: Any
    timestamp: int | None = None
    headers: Headers = EMPTY_HEADERS


class TestInputTopic:
    """Pipes typed records into the driver; each is processed to completion before returning.

    Records without a timestamp get the topic's current time, which then moves on by
    ``auto_advance`` (both default to the driver's start time and zero).
    """

    __test__ = False  # not a pytest class

    def __init__(
        self,
        driver: TopologyTestDriver,
        name: str,
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        start_timestamp: int,
        auto_advance: int,
    ) -> None:
        self.name = name
        self._driver = driver
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._time = start_timestamp
        self._advance = auto_advance

    def advance_time(self, duration: int | timedelta) -> None:
        """Move this topic's current time forward."""
        ms = to_millis(duration)
        if ms < 0:
            raise ValueError(f"advance_time takes a non-negative duration, got {ms}")
        self._time += ms

    def pipe_input(
        self, key: Any, value: Any, timestamp: int | None = None, headers: Any = None
    ) -> None:
        """Pipe one record (key, value), optionally with a timestamp and headers."""
        if timestamp is None:
            timestamp = self._time
            self._time += self._advance
        elif isinstance(timestamp, bool) or not isinstance(timestamp, int):
            raise TypeError(f"timestamp must be int epoch milliseconds, got {timestamp!r}")
        k = self._key_serde.serialize(self.name, key)
        v = self._value_serde.serialize(self.name, value)
        self._driver.pipe_raw(self.name, k, v, timestamp, normalize_headers(headers))

    def pipe_value(self, value: Any, timestamp: int | None = None) -> None:
        """Pipe a record with a None key."""
        self.pipe_input(None, value, timestamp)

    def pipe_record(self, record: TestRecord) -> None:
        self.pipe_input(record.key, record.value, record.timestamp, record.headers)

    def pipe_key_value_list(self, pairs: Iterable[tuple[Any, Any]]) -> None:
        """Pipe ``(key, value)`` pairs in order."""
        for k, v in pairs:
            self.pipe_input(k, v)

    def pipe_value_list(self, values: Iterable[Any]) -> None:
        for v in values:
            self.pipe_input(None, v)

    def pipe_record_list(self, records: Iterable[TestRecord]) -> None:
        for r in records:
            self.pipe_record(r)

    def __repr__(self) -> str:
        return f"TestInputTopic({self.name!r})"


class TestOutputTopic:
    """Reads, in order, what the topology wrote to a topic; each record is read once."""

    __test__ = False

    def __init__(
        self,
        name: str,
        queue: deque[ConsumerRecord],
        key_serde: Serde[Any],
        value_serde: Serde[Any],
    ) -> None:
        self.name = name
        self._queue = queue
        self._key_serde = key_serde
        self._value_serde = value_serde

    def _pop(self) -> ConsumerRecord:
        if not self._queue:
            raise NoSuchElementError(f"Empty topic: {self.name}")
        return self._queue.popleft()

    def read_record(self) -> TestRecord:
        """The next record with key, value, timestamp and headers."""
        r = self._pop()
        return TestRecord(
            self._key_serde.deserialize(self.name, r.key),
            self._value_serde.deserialize(self.name, r.value),
            r.timestamp,
            r.headers,
        )

    def read_value(self) -> Any:
        return self.read_record().value

    def read_key_value(self) -> tuple[Any, Any]:
        r = self.read_record()
        return (r.key, r.value)

    def read_records_to_list(self) -> list[TestRecord]:
        out = []
        while self._queue:
            out.append(self.read_record())
        return out

    def read_values_to_list(self) -> list[Any]:
        return [r.value for r in self.read_records_to_list()]

    def read_key_values_to_list(self) -> list[tuple[Any, Any]]:
        return [(r.key, r.value) for r in self.read_records_to_list()]

    def read_key_values_to_map(self) -> dict[Any, Any]:
        """The last value per key (a tombstone leaves the key with None, as in Kafka)."""
        out: dict[Any, Any] = {}
        for r in self.read_records_to_list():
            if r.key is None:
                raise ValueError(
                    f"topic {self.name!r} holds a record with a None key, which a map cannot hold"
                )
            out[r.key] = r.value
        return out

    def get_queue_size(self) -> int:
        return len(self._queue)

    def is_empty(self) -> bool:
        return not self._queue

    def __repr__(self) -> str:
        return f"TestOutputTopic({self.name!r}, {len(self._queue)} unread)"
