"""When windowed aggregations emit: :class:`EmitStrategy`."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class StrategyType(enum.Enum):
    """The kinds of :class:`EmitStrategy`."""

    ON_WINDOW_CLOSE = "on_window_close"
    ON_WINDOW_UPDATE = "on_window_update"


@dataclass(frozen=True, slots=True)
class EmitStrategy:
    """Emit a windowed aggregate on every update (the default) or once when its window closes.

    >>> EmitStrategy.on_window_close()
    EmitStrategy.on_window_close()
    >>> EmitStrategy.on_window_update().type is EmitStrategy.StrategyType.ON_WINDOW_UPDATE
    True
    """

    StrategyType = StrategyType  # type: ignore[misc]  # nested as in Kafka

    type: StrategyType

    @staticmethod
    def on_window_close() -> EmitStrategy:
        """Emit each window's result once, when the window closes (end + grace)."""
        return EmitStrategy(StrategyType.ON_WINDOW_CLOSE)

    @staticmethod
    def on_window_update() -> EmitStrategy:
        """Emit the updated result for every record (Kafka's default)."""
        return EmitStrategy(StrategyType.ON_WINDOW_UPDATE)

    def __repr__(self) -> str:
        return f"EmitStrategy.{self.type.value}()"
