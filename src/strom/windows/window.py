"""One window instance (:class:`Window`) and a key paired with its window (:class:`Windowed`)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

K = TypeVar("K")

#: The largest timestamp (Java's ``Long.MAX_VALUE``): the end of unlimited windows.
MAX_TIMESTAMP = 2**63 - 1

_new = object.__new__


class Window:
    """A window ``[start, end]`` of event time in epoch milliseconds; immutable and ordered.

    Whether ``end`` is inclusive depends on the kind of window: exclusive for time (tumbling
    and hopping) windows, inclusive for session and sliding windows.

    >>> w = Window(0, 60_000)
    >>> w
    Window(start=0, end=60000)
    >>> w.overlap(Window(30_000, 90_000)), w < Window(60_000, 120_000)
    (True, True)
    """

    __slots__ = ("_end", "_start")

    def __init__(self, start: int, end: int) -> None:
        if start < 0:
            raise ValueError(f"Window startMs time cannot be negative: {start}")
        if end < start:
            raise ValueError(
                f"Window endMs time cannot be smaller than window startMs time: "
                f"start={start}, end={end}"
            )
        self._start = start
        self._end = end

    @classmethod
    def _of(cls, start: int, end: int) -> Window:
        """Build without validation (for callers that computed valid bounds)."""
        w = _new(cls)
        w._start = start
        w._end = end
        return w

    @property
    def start(self) -> int:
        """Start timestamp in milliseconds (inclusive)."""
        return self._start

    @property
    def end(self) -> int:
        """End timestamp in milliseconds."""
        return self._end

    def overlap(self, other: Window, *, inclusive_end: bool = False) -> bool:
        """True if the two windows share a point in time.

        By default ends are exclusive (time windows, Kafka's ``TimeWindow.overlap``);
        ``inclusive_end=True`` treats both ends as inclusive (session windows).

        >>> Window(0, 10).overlap(Window(10, 20))
        False
        >>> Window(0, 10).overlap(Window(10, 20), inclusive_end=True)
        True
        """
        if inclusive_end:
            return not (other._end < self._start or self._end < other._start)
        return self._start < other._end and other._start < self._end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Window):
            return NotImplemented
        return self._start == other._start and self._end == other._end

    def __hash__(self) -> int:
        return hash((self._start, self._end))

    def __lt__(self, other: Window) -> bool:
        if not isinstance(other, Window):
            return NotImplemented
        return (self._start, self._end) < (other._start, other._end)

    def __le__(self, other: Window) -> bool:
        if not isinstance(other, Window):
            return NotImplemented
        return (self._start, self._end) <= (other._start, other._end)

    def __gt__(self, other: Window) -> bool:
        if not isinstance(other, Window):
            return NotImplemented
        return (self._start, self._end) > (other._start, other._end)

    def __ge__(self, other: Window) -> bool:
        if not isinstance(other, Window):
            return NotImplemented
        return (self._start, self._end) >= (other._start, other._end)

    def __repr__(self) -> str:
        return f"Window(start={self._start}, end={self._end})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Window, (self._start, self._end))


class Windowed(Generic[K]):
    """A key and the window it was aggregated in: the key of every windowed result.

    >>> Windowed("a", Window(0, 60_000))
    Windowed(key='a', window=Window(start=0, end=60000))
    >>> Windowed("a", Window(0, 10)) == Windowed("a", Window(0, 10))
    True
    """

    __slots__ = ("_key", "_window")

    def __init__(self, key: K, window: Window) -> None:
        if not isinstance(window, Window):
            raise TypeError(f"Windowed needs a Window, got {type(window).__name__}: {window!r}")
        self._key = key
        self._window = window

    @property
    def key(self) -> K:
        """The record key."""
        return self._key

    @property
    def window(self) -> Window:
        """The window the key belongs to."""
        return self._window

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Windowed):
            return NotImplemented
        return self._key == other._key and self._window == other._window

    def __hash__(self) -> int:
        return hash((self._key, self._window))

    def __repr__(self) -> str:
        return f"Windowed(key={self._key!r}, window={self._window!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Windowed, (self._key, self._window))
