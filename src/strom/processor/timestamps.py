"""Timestamp extractors: which time a record has for stream time and windows.

An extractor is called with the deserialized record (its ``timestamp`` is the one in the log)
and the partition time (the highest timestamp seen so far on the record's partition, -1 if
none), and returns the record's timestamp. A negative result means "invalid": the record is
skipped and counted as dropped, as Kafka Streams does. Any callable ``fn(record,
partition_time) -> int`` works as an extractor too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from strom.core.errors import StreamsError
from strom.processor.record import Record

log = logging.getLogger("strom.timestamps")


class TimestampExtractor:
    """Base class: ``extract(record, partition_time) -> int`` (Kafka's TimestampExtractor)."""

    def extract(self, record: Record[Any, Any], partition_time: int) -> int:
        raise NotImplementedError

    def __call__(self, record: Record[Any, Any], partition_time: int) -> int:
        return self.extract(record, partition_time)

    def on_invalid(self, record: Record[Any, Any], timestamp: int, partition_time: int) -> int:
        """What to do with an invalid (negative) timestamp: fail, as Kafka's default."""
        raise StreamsError(
            f"input record with key={record.key!r} has an invalid (negative) timestamp "
            f"{timestamp}; use another timestamp extractor (default.timestamp.extractor) to "
            "process such data"
        )


class FailOnInvalidTimestamp(TimestampExtractor):
    """The record's own timestamp; an invalid one stops processing (the default).

    >>> FailOnInvalidTimestamp().extract(Record("k", "v", 42), -1)
    42
    """

    def extract(self, record: Record[Any, Any], partition_time: int) -> int:
        ts = record.timestamp
        return ts if ts >= 0 else self.on_invalid(record, ts, partition_time)


class LogAndSkipOnInvalidTimestamp(FailOnInvalidTimestamp):
    """The record's own timestamp; a record with an invalid one is logged and skipped."""

    def on_invalid(self, record: Record[Any, Any], timestamp: int, partition_time: int) -> int:
        log.warning(
            "Input record with key=%r will be dropped because it has an invalid "
            "(negative) timestamp %s",
            record.key,
            timestamp,
        )
        return timestamp


class UsePartitionTimeOnInvalidTimestamp(FailOnInvalidTimestamp):
    """The record's own timestamp, or the partition time when it is invalid."""

    def on_invalid(self, record: Record[Any, Any], timestamp: int, partition_time: int) -> int:
        if partition_time < 0:
            raise StreamsError(
                f"could not infer a new timestamp for the record with key={record.key!r} "
                f"(invalid timestamp {timestamp}) because the partition time is unknown"
            )
        return partition_time


class WallclockTimestampExtractor(TimestampExtractor):
    """The wall-clock time when the record is processed (processing-time semantics)."""

    def extract(self, record: Record[Any, Any], partition_time: int) -> int:
        return time.time_ns() // 1_000_000


class ValueFieldTimestampExtractor(TimestampExtractor):
    """Event time from a field of the value: epoch milliseconds (int), a datetime, or an ISO
    8601 string; a missing or bad field is invalid and handled by ``on_invalid``:
    ``"fail"`` (default), ``"skip"`` or ``"partition_time"``.

    >>> ValueFieldTimestampExtractor("ts").extract(Record("k", {"ts": 1500}, 0), -1)
    1500
    """

    def __init__(self, field: str, on_invalid: str = "fail") -> None:
        policies: dict[str, type[FailOnInvalidTimestamp]] = {
            "fail": FailOnInvalidTimestamp,
            "skip": LogAndSkipOnInvalidTimestamp,
            "partition_time": UsePartitionTimeOnInvalidTimestamp,
        }
        if on_invalid not in policies:
            raise ValueError(f"on_invalid must be one of {sorted(policies)}, got {on_invalid!r}")
        self.field = field
        self._policy = policies[on_invalid]()

    def extract(self, record: Record[Any, Any], partition_time: int) -> int:
        value = record.value
        raw = value.get(self.field) if isinstance(value, dict) else getattr(value, self.field, None)
        ts = -1
        if isinstance(raw, bool):
            ts = -1
        elif isinstance(raw, int):
            ts = raw
        elif isinstance(raw, float):
            ts = int(raw)
        elif isinstance(raw, datetime):
            ts = int(raw.timestamp() * 1000)
        elif isinstance(raw, str):
            try:
                ts = int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                ts = -1
        return ts if ts >= 0 else self._policy.on_invalid(record, ts, partition_time)


NAMED: dict[str, Callable[[], TimestampExtractor]] = {
    "fail_on_invalid_timestamp": FailOnInvalidTimestamp,
    "log_and_skip_on_invalid_timestamp": LogAndSkipOnInvalidTimestamp,
    "use_partition_time_on_invalid_timestamp": UsePartitionTimeOnInvalidTimestamp,
    "wallclock": WallclockTimestampExtractor,
}


def timestamp_extractor(spec: Any) -> Callable[[Record[Any, Any], int], int]:
    """An extractor from config: None (the default), a name, a class, an instance, a function."""
    if spec is None:
        return FailOnInvalidTimestamp()
    if isinstance(spec, str):
        key = spec.lower().replace("-", "_")
        if key not in NAMED:
            raise ValueError(
                f"unknown timestamp extractor {spec!r}; use one of {sorted(NAMED)} or an object"
            )
        return NAMED[key]()
    if isinstance(spec, type):
        return spec()
    if callable(spec):
        return spec
    raise TypeError(f"a timestamp extractor must be callable, got {spec!r}")
