"""A task's state on disk and in its changelogs: checkpoints, wiping, and restoration.

Persistent stores keep a checkpoint (``<task dir>/.checkpoint``: changelog offsets their data
matches). At start a task restores each logged store from its checkpoint (persistent) or from
the beginning (in-memory) to the changelog's end. Under exactly_once_v2 the checkpoint is
removed while the task runs and written only at a clean close, so a crash leaves none and the
persistent stores are wiped and rebuilt from the changelog (Kafka Streams does the same).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from strom.backends.api import Backend
from strom.core.errors import StromError
from strom.core.types import TaskId
from strom.runtime.context import TaskContext

log = logging.getLogger("strom.restore")

CHECKPOINT = ".checkpoint"


class StateManager:
    """Checkpoints and restoration for one task."""

    def __init__(self, task_id: TaskId, task_dir: Path, backend: Backend, eos: bool) -> None:
        self.task_id = task_id
        self.task_dir = task_dir
        self.backend = backend
        self.eos = eos
        self.checkpoint: dict[str, int] | None = None
        self.restored = 0
        self.applied = 0  # records a standby applied since it opened
        #: store name -> the next changelog offset to apply (set by restore and follow)
        self.positions: dict[str, int] = {}

    @property
    def _file(self) -> Path:
        return self.task_dir / CHECKPOINT

    def prepare(self, changelogs: dict[str, str] | None = None) -> None:
        """Before the stores open: read the checkpoint; wipe persistent state that has none,
        or whose checkpoint is ahead of its changelog (state of another log, or of a log that
        was reset: Kafka treats this as a corrupted task)."""
        path = self._file
        if path.exists():
            try:
                self.checkpoint = {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
            except (ValueError, OSError) as e:
                log.warning(
                    "task %s: unreadable checkpoint %s (%s); restoring from scratch",
                    self.task_id,
                    path,
                    e,
                )
                self.checkpoint = None
            if self.eos:
                path.unlink(missing_ok=True)  # only a clean close writes it back
        if self.checkpoint is not None and self._ahead_of_changelogs(changelogs):
            self.checkpoint = None
            path.unlink(missing_ok=True)
        rocks = self.task_dir / "rocksdb"
        if self.checkpoint is None and rocks.exists():
            log.info(
                "task %s: no checkpoint; wiping local state to restore it from changelogs",
                self.task_id,
            )
            shutil.rmtree(rocks, ignore_errors=True)

    def _ahead_of_changelogs(self, changelogs: dict[str, str] | None) -> bool:
        assert self.checkpoint is not None
        for topic, offset in self.checkpoint.items():
            if changelogs is not None and topic not in changelogs.values():
                continue
            try:
                end = self.backend.offsets(topic, self.task_id.partition)[1]
            except StromError:
                end = -1
            if offset > end:
                log.warning(
                    "task %s: checkpoint of %s is at offset %s but the changelog ends at %s; "
                    "wiping local state to restore it from the changelog",
                    self.task_id,
                    topic,
                    offset,
                    end,
                )
                return True
        return False

    def _start(self, store: Any, topic: str, begin: int) -> int:
        """Where a store's replay starts: where it got to, else its checkpoint (persistent
        stores), else the changelog's beginning."""
        start = begin
        if store.persistent and self.checkpoint is not None and topic in self.checkpoint:
            start = max(begin, self.checkpoint[topic])
        return start

    def restore(self, context: TaskContext, changelogs: dict[str, str]) -> int:
        """Replay each registered store's changelog partition to its end; returns records
        restored (a standby promoted to active replays only what it has not applied yet)."""
        partition = self.task_id.partition
        total = 0
        for name, (store, callback) in context.registered.items():
            topic = changelogs.get(name)
            if topic is None:
                continue
            begin, end = self.backend.offsets(topic, partition)
            start = self.positions.get(name)
            if start is None or start < begin:
                start = self._start(store, topic, begin)
            offset = start
            while offset < end:
                offset, n = self._apply_batch(topic, offset, callback, 10_000)
                if not n:
                    break
                total += n
                self.restored = total  # visible while restoring (the web page shows it)
            self.positions[name] = offset
            if offset > start:
                log.info(
                    "task %s: restored %s from %s[%s] offsets %s..%s",
                    self.task_id,
                    name,
                    topic,
                    partition,
                    start,
                    offset,
                )
        self.restored = total
        return total

    def follow(self, context: TaskContext, changelogs: dict[str, str], max_records: int) -> int:
        """Apply what the changelogs got since the last call, up to ``max_records`` per store
        (a standby task's update); returns records applied."""
        partition = self.task_id.partition
        total = 0
        for name, (store, callback) in context.registered.items():
            topic = changelogs.get(name)
            if topic is None:
                continue
            offset = self.positions.get(name)
            if offset is None:
                offset = self._start(store, topic, self.backend.offsets(topic, partition)[0])
            self.positions[name], n = self._apply_batch(topic, offset, callback, max_records)
            total += n
        self.applied += total
        return total

    def _apply_batch(
        self, topic: str, offset: int, callback: Any, max_records: int
    ) -> tuple[int, int]:
        """Fetch one batch of a changelog from ``offset`` and give it to the store's restore
        callback; returns (the next offset, records applied)."""
        batch = self.backend.fetch(topic, self.task_id.partition, offset, max_records)
        if not batch:
            return offset, 0
        callback([(r.key, r.value, r.timestamp) for r in batch])
        return batch[-1].offset + 1, len(batch)

    def lag(self, changelogs: dict[str, str]) -> int:
        """Changelog records not applied yet (a standby's distance from its active)."""
        partition = self.task_id.partition
        lag = 0
        for name, topic in changelogs.items():
            end = self.backend.offsets(topic, partition)[1]
            lag += max(0, end - self.positions.get(name, 0))
        return lag

    def activate(self) -> None:
        """A standby becomes the active task: under exactly_once_v2 its checkpoint goes (the
        active's stores will hold uncommitted writes; a clean close writes it back)."""
        if self.eos:
            self._file.unlink(missing_ok=True)

    def write_checkpoint(self, changelogs: dict[str, str], following: bool = False) -> None:
        """Record how far the changelogs go: the stores' data matches them (after a flush).
        An active task's flushed stores hold all of its changelogs; a standby's (``following``)
        hold what it applied."""
        partition = self.task_id.partition
        if following:
            offsets: dict[str, int] = {}
            for name, topic in changelogs.items():
                if name in self.positions:
                    at = self.positions[name]
                    offsets[topic] = min(at, offsets.get(topic, at))
        else:
            offsets = {t: self.backend.offsets(t, partition)[1] for t in set(changelogs.values())}
        self.task_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.task_dir / (CHECKPOINT + ".tmp")
        tmp.write_text(json.dumps(offsets))
        os.replace(tmp, self._file)
