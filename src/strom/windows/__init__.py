"""Window specifications and window math (pure: no processing, no state).

>>> from strom.windows import TimeWindows
>>> TimeWindows.of_size_with_no_grace(60_000).windows_for(61_000)
{60000: Window(start=60000, end=120000)}
"""

from strom.windows.emit import EmitStrategy
from strom.windows.join import JoinWindows
from strom.windows.session import SessionWindows
from strom.windows.suppressed import BufferConfig, BufferFullStrategy, Suppressed
from strom.windows.time_windows import SlidingWindows, TimeWindows, UnlimitedWindows
from strom.windows.window import MAX_TIMESTAMP, Window, Windowed

__all__ = [
    "MAX_TIMESTAMP",
    "BufferConfig",
    "BufferFullStrategy",
    "EmitStrategy",
    "JoinWindows",
    "SessionWindows",
    "SlidingWindows",
    "Suppressed",
    "TimeWindows",
    "UnlimitedWindows",
    "Window",
    "Windowed",
]
