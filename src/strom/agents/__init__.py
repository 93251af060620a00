"""The Faust-style API: ``app.topic(...)``, ``@app.agent(topic)`` async agents, tables."""

from strom.agents.mixin import FaustMixin

__all__ = ["FaustMixin"]
