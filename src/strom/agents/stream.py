"""The stream an agent iterates: every partition of its topic, from the group's committed
offsets, deserialized with the topic's serdes."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from strom.backends.api import Backend, TopicPartition
from strom.core.records import ConsumerRecord
from strom.core.types import Headers

if TYPE_CHECKING:
    from strom.agents.agent import Agent

log = logging.getLogger("strom.agents")


class Event(NamedTuple):
    """One deserialized record and where it came from (``stream.events()`` yields these)."""

    key: Any
    value: Any
    topic: str
    partition: int
    offset: int
    timestamp: int
    headers: Headers


class Stream:
    """What an agent gets: ``async for value in stream``, ``stream.items()`` for
    ``(key, value)`` pairs, ``stream.events()`` for :class:`Event` s.

    Offsets: an event counts as processed once the agent asks for the next one; the runtime
    commits the offsets of processed events (at-least-once: an event the agent was still
    working on when the app stopped, or that raised, is delivered again after a restart).
    A record whose key or value cannot be deserialized is logged (topic, partition, offset)
    and skipped, and counted in ``agent.skipped``. Iteration ends when the app stops.
    """

    def __init__(
        self,
        agent: Agent,
        backend: Backend,
        config: Mapping[str, Any],
        stopping: threading.Event,
    ) -> None:
        self.agent = agent
        self.topic = agent.topic.name
        self._backend = backend
        self._stopping = stopping
        self._max = int(config["max.poll.records"])
        self._poll_s = int(config["poll.ms"]) / 1000
        self._kd = agent.topic.key_serde.deserialize
        self._vd = agent.topic.value_serde.deserialize
        count = backend.list_topics()[self.topic].partitions
        tps = [(self.topic, p) for p in range(count)]
        committed = backend.committed(agent.group, tps)
        latest = config["auto.offset.reset"] == "latest"
        self._position: dict[int, int] = {}  # next offset to fetch, per partition
        for tp in tps:
            begin, end = backend.offsets(*tp)
            start = committed.get(tp, end if latest else begin)
            self._position[tp[1]] = max(start, begin)
        self._done = dict(self._position)  # offsets to commit: past the processed events
        self._committed = dict(committed)
        self._buffer: deque[ConsumerRecord] = deque()
        self._last: ConsumerRecord | None = None  # the event the agent is working on
        self.current_event: Event | None = None

    # ---- what agents iterate -------------------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[Any]:
        return self._values()

    async def _values(self) -> AsyncIterator[Any]:
        async for event in self.events():
            yield event.value

    async def items(self) -> AsyncIterator[tuple[Any, Any]]:
        """``(key, value)`` pairs."""
        async for event in self.events():
            yield event.key, event.value

    async def events(self) -> AsyncIterator[Event]:
        """Events with their key, value, partition, offset, timestamp and headers."""
        while True:
            self._pulled_past()
            if self._stopping.is_set():
                return
            if not self._buffer:
                # sleep while there is nothing new; after a fetch, let the other agents run
                await asyncio.sleep(0 if self._fetch() else self._poll_s)
                continue
            rec = self._buffer.popleft()
            try:
                key = self._kd(rec.topic, rec.key)
                value = self._vd(rec.topic, rec.value)
            except Exception as e:
                self.agent.skipped += 1
                self._done[rec.partition] = rec.offset + 1
                log.warning(
                    "agent %s: skipping the record of %s[%s] at offset %s: cannot deserialize "
                    "it: %s",
                    self.agent.name,
                    rec.topic,
                    rec.partition,
                    rec.offset,
                    e,
                )
                continue
            self._last = rec
            self.current_event = Event(
                key, value, rec.topic, rec.partition, rec.offset, rec.timestamp, rec.headers
            )
            yield self.current_event

    # ---- offsets ---------------------------------------------------------------------------
    def _pulled_past(self) -> None:
        rec = self._last
        if rec is not None:
            self._last = None
            self._done[rec.partition] = rec.offset + 1
            self.agent.processed += 1

    def _fetch(self) -> bool:
        for p, offset in self._position.items():
            batch = self._backend.fetch(self.topic, p, offset, self._max)
            if batch:
                self._buffer.extend(batch)
                self._position[p] = batch[-1].offset + 1
        return bool(self._buffer)

    def to_commit(self) -> dict[TopicPartition, int]:
        """Offsets that moved since the last commit."""
        return {
            (self.topic, p): o
            for p, o in self._done.items()
            if self._committed.get((self.topic, p)) != o
        }

    def committed(self, offsets: Mapping[TopicPartition, int]) -> None:
        self._committed.update(offsets)
