"""``StandbyTask``: a warm copy of another member's task state (``num.standby.replicas``).

A standby opens the task's stores in its own task directory and applies the records of their
changelogs as they arrive; it never processes input. When the group moves the task here (its
owner failed or left), the worker turns the standby into the active task: it keeps the open
stores and replays only the changelog records the standby had not applied yet. A standby
writes a checkpoint at every commit, so a restarted instance resumes from it too. Under
exactly_once_v2 it reads only committed changelog records, so its state is always a committed
state of the active task.
"""

from __future__ import annotations

import logging

from strom.core.types import TaskId
from strom.runtime.state_manager import StateManager
from strom.runtime.task import StreamTask

log = logging.getLogger("strom.standby")


class StandbyTask:
    """The stores of one task, kept up to date from their changelogs."""

    __slots__ = ("id", "state", "task")

    def __init__(self, task: StreamTask, state: StateManager) -> None:
        self.id: TaskId = task.id
        self.task = task
        self.state = state

    @property
    def changelogs(self) -> dict[str, str]:
        return self.task.topology.changelogs

    def open(self) -> None:
        """Open the stores (they register their restore callbacks); nothing is applied yet."""
        self.state.prepare(self.changelogs)
        try:
            self.task.init_stores()
        except BaseException:
            self.task.close()
            raise

    def update(self, max_records: int) -> int:
        """Apply up to ``max_records`` new changelog records per store; returns how many."""
        return self.state.follow(self.task.context, self.changelogs, max_records)

    def checkpoint(self) -> None:
        """Flush the stores and record how far they follow the changelogs."""
        for store in self.task.topology.stores.values():
            if store.is_open:
                store.flush()
        self.state.write_checkpoint(self.changelogs, following=True)

    def lag(self) -> int:
        """Changelog records the active task wrote that this copy has not applied yet."""
        return self.state.lag(self.changelogs)

    def close(self, clean: bool = True) -> None:
        """Close the stores; ``clean`` writes a checkpoint first (the next start resumes)."""
        try:
            if clean:
                self.checkpoint()
        finally:
            self.task.close()
