"""Fixed-size window specs: tumbling/hopping :class:`TimeWindows`, :class:`SlidingWindows` and
:class:`UnlimitedWindows` (Kafka Streams' semantics and validation messages)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from strom.core.types import to_millis
from strom.windows.window import MAX_TIMESTAMP, Window

Duration = int | timedelta

_window = Window._of


@dataclass(frozen=True, slots=True)
class TimeWindows:
    """Fixed-size windows aligned to the epoch: tumbling, or hopping with :meth:`advance_by`.

    The N-th window is ``[N * advance, N * advance + size)``: start inclusive, end exclusive.

    >>> w = TimeWindows.of_size_with_no_grace(5000).advance_by(3000)
    >>> w
    TimeWindows(size_ms=5000, advance_ms=3000, grace_ms=0)
    >>> w.windows_for(6000)
    {3000: Window(start=3000, end=8000), 6000: Window(start=6000, end=11000)}
    """

    size_ms: int
    advance_ms: int
    grace_ms: int = 0

    def __post_init__(self) -> None:
        if self.size_ms <= 0:
            raise ValueError(
                f"Window size (sizeMs) must be larger than zero, but given size is: "
                f"{self.size_ms} ms"
            )
        if self.advance_ms <= 0 or self.advance_ms > self.size_ms:
            raise ValueError(
                "Window advancement interval should be more than zero and less than window "
                f"duration which is {self.size_ms} ms, but given advancement interval is: "
                f"{self.advance_ms} ms"
            )
        if self.grace_ms < 0:
            raise ValueError(f"Grace period must not be negative: {self.grace_ms} ms")

    @classmethod
    def of_size_with_no_grace(cls, size: Duration) -> TimeWindows:
        """Tumbling windows of ``size`` with no grace period (late records are dropped).

        >>> TimeWindows.of_size_with_no_grace(timedelta(minutes=1)).size_ms
        60000
        """
        return cls.of_size_and_grace(size, 0)

    @classmethod
    def of_size_and_grace(cls, size: Duration, grace: Duration) -> TimeWindows:
        """Tumbling windows of ``size`` that accept records up to ``grace`` after window end.

        >>> TimeWindows.of_size_and_grace(60_000, 10_000).grace_ms
        10000
        """
        size_ms = to_millis(size, "size")
        return cls(size_ms, size_ms, to_millis(grace, "afterWindowEnd"))

    def advance_by(self, advance: Duration) -> TimeWindows:
        """Hopping windows: same size and grace, moving by ``advance`` (0 < advance <= size).

        >>> TimeWindows.of_size_with_no_grace(10).advance_by(5).advance_ms
        5
        """
        return replace(self, advance_ms=to_millis(advance, "advance"))

    def windows_for(self, timestamp: int) -> dict[int, Window]:
        """Every window containing ``timestamp``, keyed by start, in start order.

        Windows never start before 0 (Kafka's ``TimeWindows.windowsFor``).

        >>> TimeWindows.of_size_with_no_grace(10).windows_for(10)
        {10: Window(start=10, end=20)}
        """
        size = self.size_ms
        advance = self.advance_ms
        start = (max(0, timestamp - size + advance) // advance) * advance
        windows: dict[int, Window] = {}
        while start <= timestamp:
            windows[start] = _window(start, start + size)
            start += advance
        return windows

    def size(self) -> int:
        """The window size in milliseconds (Kafka's ``size()``)."""
        return self.size_ms

    def grace_period_ms(self) -> int:
        """The grace period in milliseconds (Kafka's ``gracePeriodMs()``)."""
        return self.grace_ms


@dataclass(frozen=True, slots=True)
class SlidingWindows:
    """Windows of a fixed size ``time_difference`` that slide with the records' timestamps.

    Two records fall in one window if their timestamps differ by at most ``time_difference``;
    both window bounds are inclusive.

    >>> SlidingWindows.of_time_difference_and_grace(5000, 1000)
    SlidingWindows(time_difference_ms=5000, grace_ms=1000)
    """

    time_difference_ms: int
    grace_ms: int = 0

    def __post_init__(self) -> None:
        if self.time_difference_ms < 0:
            raise ValueError(
                f"Window time difference must not be negative: {self.time_difference_ms} ms"
            )
        if self.grace_ms < 0:
            raise ValueError(f"Window grace period must not be negative: {self.grace_ms} ms")

    @classmethod
    def of_time_difference_with_no_grace(cls, time_difference: Duration) -> SlidingWindows:
        """Sliding windows with no grace period.

        >>> SlidingWindows.of_time_difference_with_no_grace(timedelta(seconds=5)).grace_ms
        0
        """
        return cls.of_time_difference_and_grace(time_difference, 0)

    @classmethod
    def of_time_difference_and_grace(
        cls, time_difference: Duration, grace: Duration
    ) -> SlidingWindows:
        """Sliding windows accepting out-of-order records up to ``grace`` after window end.

        >>> SlidingWindows.of_time_difference_and_grace(10, 5).time_difference_ms
        10
        """
        return cls(to_millis(time_difference, "timeDifference"), to_millis(grace, "afterWindowEnd"))

    def grace_period_ms(self) -> int:
        """The grace period in milliseconds (Kafka's ``gracePeriodMs()``)."""
        return self.grace_ms


@dataclass(frozen=True, slots=True)
class UnlimitedWindows:
    """One window per key from ``start_ms`` to the end of time (a landmark window).

    >>> UnlimitedWindows.of().start_on(100).windows_for(150)
    {100: Window(start=100, end=9223372036854775807)}
    """

    start_ms: int = 0

    def __post_init__(self) -> None:
        if self.start_ms < 0:
            raise ValueError(f"Window start time (startMs) cannot be negative: {self.start_ms}")

    @classmethod
    def of(cls) -> UnlimitedWindows:
        """An unlimited window starting at timestamp 0.

        >>> UnlimitedWindows.of()
        UnlimitedWindows(start_ms=0)
        """
        return cls(0)

    def start_on(self, start: int) -> UnlimitedWindows:
        """An unlimited window starting at epoch millisecond ``start``.

        >>> UnlimitedWindows.of().start_on(5).start_ms
        5
        """
        if isinstance(start, bool) or not isinstance(start, int):
            raise TypeError(f"start must be int epoch milliseconds, got {start!r}")
        return UnlimitedWindows(start)

    def windows_for(self, timestamp: int) -> dict[int, Window]:
        """The single window if ``timestamp >= start_ms``, else nothing.

        >>> UnlimitedWindows.of().start_on(10).windows_for(9)
        {}
        """
        if timestamp >= self.start_ms:
            return {self.start_ms: _window(self.start_ms, MAX_TIMESTAMP)}
        return {}

    def size(self) -> int:
        """Unlimited: ``MAX_TIMESTAMP`` (Kafka's ``Long.MAX_VALUE``)."""
        return MAX_TIMESTAMP

    def grace_period_ms(self) -> int:
        """Always 0: an unlimited window never closes."""
        return 0
