"""The Faust-style API: ``app.topic(...)``, ``@app.agent(topic)`` async agents, ``app.Table``.

Agents are ``async def`` functions that iterate a :class:`Stream` of their topic with
``async for``; they run on one asyncio event loop in a background thread of the app, from
``start()``/``run()`` to ``close()``/SIGTERM, at-least-once. See :class:`FaustMixin`.
"""

from strom.agents.agent import Agent
from strom.agents.mixin import FaustMixin
from strom.agents.stream import Event, Stream
from strom.agents.table import Table
from strom.agents.topic import Topic

__all__ = ["Agent", "Event", "FaustMixin", "Stream", "Table", "Topic"]
