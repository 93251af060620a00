"""Collects what sinks and changelogs write, for the worker to produce in batches."""

from __future__ import annotations

from collections.abc import Callable

from strom.backends.api import ProducerRecord
from strom.core.errors import UnknownTopicError
from strom.core.types import Headers

_tuple_new = tuple.__new__


class BufferingCollector:
    """A RecordCollector that buffers :class:`ProducerRecord` s until the worker drains them."""

    def __init__(self, partitions_of: Callable[[str], int | None]) -> None:
        self.buffer: list[ProducerRecord] = []
        self._partitions_of = partitions_of

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers,
        partition: int | None,
        partitioner: Callable[[int], int | None] | None = None,
    ) -> None:
        if partitioner is not None and partition is None:
            n = self._partitions_of(topic)
            if n is None:
                raise UnknownTopicError(f"cannot write to topic {topic!r}: it does not exist")
            partition = partitioner(n)
            if partition is not None and not 0 <= partition < n:
                raise ValueError(
                    f"the partitioner chose partition {partition} of topic {topic!r}, "
                    f"which has {n} partitions"
                )
        # tuple.__new__ is what the NamedTuple's __new__ calls, without its Python frame
        self.buffer.append(
            _tuple_new(ProducerRecord, (topic, key, value, timestamp, headers, partition))
        )

    def drain(self) -> list[ProducerRecord]:
        out, self.buffer = self.buffer, []
        return out

    def __len__(self) -> int:
        return len(self.buffer)
