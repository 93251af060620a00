"""What ``strom.App`` gains for Faust users: ``app.topic``, ``@app.agent``, ``app.Table``.

The seed's Faust sample runs with ``strom`` in place of ``faust``:

>>> import strom
>>> app = strom.App("myapp", broker="memory://", commit_interval_ms=100)
>>> class Order(strom.Record):
...     order_id: str
...     amount: float
>>> orders_topic = app.topic("orders", value_type=Order)
>>> @app.agent(orders_topic)
... async def process_orders(orders):
...     async for order in orders:
...         if order.amount > 1000:
...             print(f"High-value order: {order.order_id}")
>>> orders_topic.send_soon(value=Order(order_id="o-1", amount=1500.0))
>>> orders_topic.send_soon(value=Order(order_id="o-2", amount=20.0))
>>> import time
>>> def wait_until_processed(agent, n):
...     while agent.processed < n:
...         time.sleep(0.01)
>>> app.start(); wait_until_processed(process_orders, 2)
High-value order: o-1
>>> app.close()
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from strom.agents.agent import Agent
from strom.agents.runtime import AgentRuntime
from strom.agents.table import Table
from strom.agents.topic import Outbox, Topic
from strom.backends.api import Backend
from strom.backends.memory import MemoryBackend
from strom.backends.registry import open_backend
from strom.core.errors import ConfigError
from strom.serdes import Serde

if TYPE_CHECKING:
    from strom.runtime.worker import StreamWorker
    from strom.topology.topology import Topology

log = logging.getLogger("strom.agents")


class FaustMixin:
    """Faust-style methods of :class:`strom.App`. Agents run alongside the app's topology,
    on one asyncio event loop in a background thread, from ``start()``/``run()`` to
    ``close()``/SIGTERM."""

    application_id: str
    broker: str
    _running: StreamWorker | None
    _error: BaseException | None
    topology: Topology

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outbox = Outbox()
        self._faust_topics: list[Topic] = []
        self._agents: dict[str, Agent] = {}
        self._tables: dict[str, Table] = {}
        self._agent_runtime: AgentRuntime | None = None

    # ---- declaring ---------------------------------------------------------------------------
    def topic(
        self,
        name: str,
        key_type: Any = None,
        value_type: Any = None,
        partitions: int | None = None,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
    ) -> Topic:
        """A topic to consume with agents and to send to; created when the app starts if it
        does not exist (``partitions``, default 1). ``value_type``/``key_type``: a
        ``strom.Model`` class, ``str``, ``bytes``, ``int``, ``float``, or None for JSON."""
        topic = Topic(name, self._outbox, key_type, value_type, partitions, key_serde, value_serde)
        self._faust_topics.append(topic)
        return topic

    def agent(
        self,
        topic: Topic | str,
        *,
        sink: Sequence[Any] | None = None,
        name: str | None = None,
    ) -> Callable[[Callable[..., Any]], Agent]:
        """Decorate ``async def f(stream)`` to run it on ``topic`` while the app runs.

        ``async for value in stream`` (or ``stream.items()`` for ``(key, value)``) gets the
        topic's events from the group ``<application.id>-agent-<name>``'s committed offsets;
        what the agent ``yield`` s goes to each ``sink`` (topics, agents or callables), keyed
        as the event being processed. One instance consumes all the topic's partitions.
        """
        if isinstance(topic, str):
            topic = self.topic(topic)
        if not isinstance(topic, Topic):
            raise TypeError(f"@app.agent needs a topic from app.topic(...), got {topic!r}")

        def decorate(fn: Callable[..., Any]) -> Agent:
            sinks = sink if isinstance(sink, list | tuple) else [] if sink is None else [sink]
            agent = Agent(fn, topic, self.application_id, sinks, name)
            if agent.name in self._agents:
                raise ValueError(f"an agent named {agent.name!r} exists already: pass name=")
            self._agents[agent.name] = agent
            return agent

        return decorate

    def Table(  # Faust's name
        self,
        name: str,
        default: Callable[[], Any] | None = None,
        key_type: Any = None,
        value_type: Any = None,
    ) -> Table:
        """A dict-like table for agents (``counts[key] += 1``), stored in RocksDB with the
        changelog ``<application.id>-<name>-changelog``; see :class:`strom.agents.Table`."""
        if name in self._tables:
            raise ValueError(f"a table named {name!r} exists already")
        table = Table(self.application_id, name, default, key_type, value_type)
        self._tables[name] = table
        return table

    # ---- hooks of App.start/run/close --------------------------------------------------------
    def _create_agent_topics(self, backend: Backend) -> None:
        """Create the declared topics and the tables' changelogs that do not exist."""
        clash = sorted(set(self._tables) & set(self.topology.stores))
        if clash:
            raise ConfigError(
                f"tables {clash} have the names of state stores of the topology, and would "
                "share their changelogs: rename them"
            )
        existing = backend.list_topics()
        for topic in self._faust_topics:
            info = existing.get(topic.name)
            if info is None:
                backend.create_topic(topic.name, topic.partitions or 1, exist_ok=True)
            elif topic.partitions and info.partitions != topic.partitions:
                log.warning(
                    "topic %s has %s partitions, not the %s declared: using it as it is",
                    topic.name,
                    info.partitions,
                    topic.partitions,
                )
        for table in self._tables.values():
            if table.changelog not in existing:
                backend.create_topic(
                    table.changelog, 1, {"cleanup.policy": "compact"}, exist_ok=True
                )

    def _start_agents(self, worker: StreamWorker) -> None:
        """Start the agents on the app's log (after ``worker`` started); on failure, close
        ``worker`` and re-raise."""
        if not (self._agents or self._tables or self._faust_topics):
            return
        try:
            backend = worker.backend
            if isinstance(backend, MemoryBackend) and backend.name is None:
                # a plain memory:// log is private to its backend object: share it through a
                # shallow copy, which the agents can close on their own
                backend = copy.copy(backend)
            else:
                backend = open_backend(self.broker)
            runtime = AgentRuntime(
                self.application_id,
                list(self._agents.values()),
                list(self._tables.values()),
                self._outbox,
                backend,
                worker.config,
                lambda _error: self._stop_worker(worker),
            )
            runtime.start()
        except BaseException:
            worker.stop()
            worker.close(clean=False)
            worker.backend.close()
            raise
        self._agent_runtime = runtime

    def _stop_worker(self, first: StreamWorker) -> None:
        """An agent failed: the app stops with its error (Kafka's SHUTDOWN_CLIENT)."""
        (self._running or first).stop()  # the current worker, or the first before it is set

    def _stop_agents(self, raise_error: bool) -> None:
        """Stop the agents; an agent's error is raised, or kept for ``close()`` to raise."""
        runtime, self._agent_runtime = self._agent_runtime, None
        if runtime is None:
            return
        runtime.stop()
        if runtime.error is not None:
            if raise_error:
                raise runtime.error
            if self._error is None:
                self._error = runtime.error
