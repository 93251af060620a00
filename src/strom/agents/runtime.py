"""Runs an app's agents: one asyncio event loop on a background thread of the app.

The loop opens the tables (restoring them from their changelogs through the runtime's own
:class:`~strom.runtime.state_manager.StateManager`), runs every agent as a task, produces
what was sent to topics every ``poll.ms``, and commits every ``commit.interval.ms`` and at
stop: sent records first, then the tables' changelogs, then each agent's offsets
(at-least-once; agents do not take part in exactly_once_v2 transactions).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from strom.agents.agent import Agent
from strom.agents.stream import Stream
from strom.agents.table import Table, TableContext
from strom.agents.topic import Outbox
from strom.backends.api import Backend
from strom.core.errors import StromError
from strom.runtime.state_manager import StateManager

log = logging.getLogger("strom.agents")

#: How long a stopping agent may take to finish the event it is on before it is cancelled.
STOP_GRACE_S = 10.0


class AgentRuntime:
    """The agents, tables and outbox of one app, on their own thread and event loop."""

    def __init__(
        self,
        application_id: str,
        agents: Sequence[Agent],
        tables: Sequence[Table],
        outbox: Outbox,
        backend: Backend,
        config: Mapping[str, Any],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.application_id = application_id
        self.agents = list(agents)
        self.tables = list(tables)
        self.outbox = outbox
        self.backend = backend
        self.config = config
        self.on_error = on_error
        self.error: BaseException | None = None
        self._poll_s = int(config["poll.ms"]) / 1000
        self._commit_s = int(config["commit.interval.ms"]) / 1000
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._started = False  # tables open, streams ready
        self._thread: threading.Thread | None = None
        self._streams: list[Stream] = []
        self._changelogs = {t.name: t.changelog for t in self.tables}
        self._context: TableContext | None = None
        self._state: StateManager | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the loop; returns once the tables are restored (raises if that failed)."""
        self._thread = threading.Thread(
            target=self._main, name=f"strom-{self.application_id}-agents", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if not self._started:
            self._thread.join()
            raise StromError(f"the agents could not start: {self.error}") from self.error

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop the agents (each finishes the event it is on), commit, close the tables."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as e:
            log.exception("the agents of %s stopped with an error", self.application_id)
            if self.error is None:
                self.error = e
                if self._started:
                    self.on_error(e)
        finally:
            self._ready.set()
            self.backend.close()

    async def _run(self) -> None:
        clean = False
        try:
            self._open_tables()
            self._produce()
            self._streams = [
                Stream(a, self.backend, self.config, self._stopping) for a in self.agents
            ]
            self._started = True
            self._ready.set()
            tasks = [asyncio.create_task(self._agent(s), name=s.agent.name) for s in self._streams]
            last_commit = time.monotonic()
            while not self._stopping.is_set():
                await asyncio.sleep(self._poll_s)
                self._produce()
                if time.monotonic() - last_commit >= self._commit_s:
                    self.commit()
                    last_commit = time.monotonic()
            if tasks:  # the streams end: let each agent finish the event it is on
                _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
                for task in late:
                    log.warning(
                        "agent %s did not stop in %ss: cancelled", task.get_name(), STOP_GRACE_S
                    )
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            self.commit()
            clean = True
        finally:
            self._stopping.set()  # after an error, the streams end too
            self._close_tables(clean)

    async def _agent(self, stream: Stream) -> None:
        agent = stream.agent
        try:
            result = agent(stream)
            if inspect.isasyncgen(result):
                async for value in result:
                    event = stream.current_event
                    await agent.deliver(None if event is None else event.key, value)
            else:
                await result
        except Exception as e:
            log.exception("agent %s failed", agent.name)
            if self.error is None:
                self.error = StromError(f"agent {agent.name!r} failed: {e!r}")
                self.error.__cause__ = e
            self._stopping.set()
            self.on_error(self.error)

    # ---- tables and commits ----------------------------------------------------------------
    def _open_tables(self) -> None:
        if not self.tables:
            return
        task_dir = Path(self.config["state.dir"]) / self.application_id / "agent-tables"
        self._context = TableContext(self.application_id, self.config, task_dir, self._changelogs)
        # eos=True: a checkpoint only lives across clean closes, so after a crash the tables
        # are rebuilt from their changelogs and are never ahead of what was committed
        self._state = StateManager(self._context.task_id, task_dir, self.backend, eos=True)
        self._state.prepare(self._changelogs)
        for table in self.tables:
            table.open(self._context)
        self._state.restore(self._context, self._changelogs)  # type: ignore[arg-type]

    def _close_tables(self, clean: bool) -> None:
        for table in self.tables:
            with table.lock:
                store = table._store
                table.closed()
                if store is not None:
                    try:
                        store.close()
                    except Exception as e:
                        clean = False
                        log.warning("table %s: error while closing: %s", table.name, e)
        if clean and self._state is not None:
            self._state.write_checkpoint(self._changelogs)

    def _produce(self) -> None:
        records = self.outbox.drain()
        if records:
            self.backend.produce(records)

    def commit(self) -> None:
        """Produce what agents sent, flush the tables to their changelogs, commit offsets."""
        self._produce()
        for table in self.tables:
            with table.lock:
                if table._store is not None:
                    table._store.flush()
        if self._context is not None and self._context.pending:
            records, self._context.pending = self._context.pending, []
            self.backend.produce(records)
        for stream in self._streams:
            offsets = stream.to_commit()
            if offsets:
                self.backend.commit_offsets(stream.agent.group, offsets)
                stream.committed(offsets)
