"""Punctuation schedules of one task, fired in time order (Kafka's PunctuationQueue)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any


class PunctuationSchedule:
    """A scheduled callback; ``cancel()`` removes it (the Cancellable of ``schedule``)."""

    __slots__ = ("callback", "cancelled", "interval", "next_time", "node")

    def __init__(self, node: Any, interval: int, callback: Callable[[int], None], start: int):
        self.node = node
        self.interval = interval
        self.callback = callback
        self.next_time = start
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def advance(self, now: int) -> None:
        """Next due time after firing at ``now``; missed intervals are skipped, not replayed."""
        nxt = self.next_time + self.interval
        if now >= nxt:
            nxt = self.next_time + ((now - self.next_time) // self.interval + 1) * self.interval
        self.next_time = nxt


class PunctuationQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, PunctuationSchedule]] = []
        self._seq = itertools.count()

    def add(self, schedule: PunctuationSchedule) -> PunctuationSchedule:
        heapq.heappush(self._heap, (schedule.next_time, next(self._seq), schedule))
        return schedule

    def next_due(self) -> int | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def may_punctuate(self, now: int, fire: Callable[[PunctuationSchedule, int], None]) -> bool:
        """Fire every schedule due at ``now`` (each once); True if any fired."""
        fired = False
        heap = self._heap
        due: list[PunctuationSchedule] = []
        while heap and heap[0][0] <= now:
            _, _, s = heapq.heappop(heap)
            if not s.cancelled:
                due.append(s)
        for s in due:
            if s.cancelled:
                continue
            fire(s, now)
            fired = True
            s.advance(now)
            if not s.cancelled:
                self.add(s)
        return fired

    def __bool__(self) -> bool:
        return bool(self._heap)

    def __len__(self) -> int:
        return sum(1 for _, _, s in self._heap if not s.cancelled)
