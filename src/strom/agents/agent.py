"""``@app.agent(topic)``: an ``async def`` that iterates a stream of its topic's events."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from strom.agents.topic import Topic


class Agent:
    """An agent: its function, the topic it consumes and the sinks its ``yield`` s go to.

    It consumes as the consumer group ``<application.id>-agent-<name>`` (``name`` defaults to
    the function's name). One agent instance consumes every partition of its topic; agents
    are not spread over several app instances. The decorated name stays callable (it calls
    the function) and has ``send``/``send_soon`` to its topic, ``processed`` (events the agent
    got through) and ``skipped`` (records that could not be deserialized).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        topic: Topic,
        application_id: str,
        sinks: Sequence[Any] = (),
        name: str | None = None,
    ) -> None:
        if not (inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)):
            raise TypeError(
                f"@app.agent needs an 'async def' function, got {fn!r}: write "
                "'async def process(stream): async for event in stream: ...'"
            )
        for sink in sinks:
            if not (isinstance(sink, Topic | Agent) or callable(sink)):
                raise TypeError(
                    f"an agent's sink must be a topic, an agent or a callable: {sink!r}"
                )
        self.fn = fn
        self.topic = topic
        self.sinks = tuple(sinks)
        self.name = name or fn.__name__
        self.group = f"{application_id}-agent-{self.name}"
        self.processed = 0
        self.skipped = 0
        self.__doc__ = fn.__doc__
        self.__name__ = self.name

    def __call__(self, stream: Any) -> Any:
        return self.fn(stream)

    async def send(self, key: Any = None, value: Any = None, **kw: Any) -> None:
        """Send to the agent's topic (see :meth:`Topic.send`)."""
        await self.topic.send(key, value, **kw)

    def send_soon(self, key: Any = None, value: Any = None, **kw: Any) -> None:
        """Queue a record for the agent's topic (see :meth:`Topic.send_soon`)."""
        self.topic.send_soon(key, value, **kw)

    async def deliver(self, key: Any, value: Any) -> None:
        """Pass what the agent yielded to each sink (keyed as the event it came from)."""
        for sink in self.sinks:
            if isinstance(sink, Topic | Agent):
                await sink.send(key, value)
            else:
                result = sink(value)
                if inspect.isawaitable(result):
                    await result

    def __repr__(self) -> str:
        return f"Agent({self.name!r}, topic={self.topic.name!r})"
