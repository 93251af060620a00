"""Global stores: every instance reads every partition of their topics (Kafka's GlobalStreamThread).

They are loaded fully before any task processes a record (bootstrap), then kept up to date
each loop. The topic is the store's changelog, so the local copy is rebuilt from it at start.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from strom.backends.api import Backend, TopicPartition
from strom.core.errors import UnknownTopicError
from strom.core.types import TaskId
from strom.runtime.task import StreamTask
from strom.topology.nodes import RecordCollector
from strom.topology.topology import Topology

log = logging.getLogger("strom.global")

GLOBAL_TASK = TaskId(-1, -1)


class GlobalTask:
    """The global stores of one instance, and the partitions that feed them."""

    def __init__(
        self,
        topology: Topology,
        application_id: str,
        config: Mapping[str, Any],
        backend: Backend,
        collector: RecordCollector,
        clock: Callable[[], int],
        state_dir: Path,
    ) -> None:
        self.backend = backend
        pt = topology.build(application_id, config, global_stores=True)
        shutil.rmtree(state_dir, ignore_errors=True)  # rebuilt from the topics below
        self.task = StreamTask(GLOBAL_TASK, pt, application_id, config, collector, clock, state_dir)
        self.stores = pt.stores
        self.positions: dict[TopicPartition, int] = {}
        topics = backend.list_topics()
        for topic in pt.sources:
            info = topics.get(topic)
            if info is None:
                raise UnknownTopicError(
                    f"the global table's topic {topic!r} does not exist; create it first"
                )
            for p in range(info.partitions):
                self.positions[(topic, p)] = backend.offsets(topic, p)[0]

    def __bool__(self) -> bool:
        return bool(self.positions)

    def start(self) -> int:
        """Init the stores and load every partition up to its current end."""
        self.task.init_stores()
        self.task.init_processors()
        ends = {tp: self.backend.offsets(*tp)[1] for tp in self.positions}
        loaded = 0
        while any(self.positions[tp] < end for tp, end in ends.items()):
            loaded += self.poll(ends)
        self.task.prepare_commit()
        log.info("global stores %s loaded (%s records)", sorted(self.stores), loaded)
        return loaded

    def poll(self, until: Mapping[TopicPartition, int] | None = None) -> int:
        """Fetch and apply new records of the global topics; returns how many."""
        n = 0
        for tp, offset in self.positions.items():
            if until is not None and offset >= until[tp]:
                continue
            batch = self.backend.fetch(tp[0], tp[1], offset, 5000)
            if batch:
                self.task.add_records(batch)
                self.positions[tp] = batch[-1].offset + 1
        while self.task.process():
            n += 1
        return n

    def flush(self) -> None:
        self.task.prepare_commit()

    def close(self) -> None:
        self.task.close()
