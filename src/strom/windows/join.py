"""Stream-stream join window spec: :class:`JoinWindows`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from strom.core.types import to_millis

Duration = int | timedelta


@dataclass(frozen=True, slots=True)
class JoinWindows:
    """How far apart in time two records of the same key may be to join.

    A record at ``t`` on the left joins right records with timestamps in
    ``[t - before_ms, t + after_ms]``.

    >>> JoinWindows.of_time_difference_with_no_grace(5000).before(1000)
    JoinWindows(before_ms=1000, after_ms=5000, grace_ms=0)
    """

    before_ms: int
    after_ms: int
    grace_ms: int = 0

    def __post_init__(self) -> None:
        if self.before_ms + self.after_ms < 0:
            raise ValueError(
                "Window interval (ie, beforeMs+afterMs) must not be negative: "
                f"before={self.before_ms} ms, after={self.after_ms} ms"
            )
        if self.grace_ms < 0:
            raise ValueError(f"Grace period must not be negative: {self.grace_ms} ms")

    @classmethod
    def of_time_difference_with_no_grace(cls, time_difference: Duration) -> JoinWindows:
        """Join records at most ``time_difference`` apart, no grace period.

        >>> JoinWindows.of_time_difference_with_no_grace(timedelta(seconds=10)).after_ms
        10000
        """
        return cls.of_time_difference_and_grace(time_difference, 0)

    @classmethod
    def of_time_difference_and_grace(
        cls, time_difference: Duration, grace: Duration
    ) -> JoinWindows:
        """Join records at most ``time_difference`` apart, accepting records ``grace`` late.

        >>> JoinWindows.of_time_difference_and_grace(100, 50)
        JoinWindows(before_ms=100, after_ms=100, grace_ms=50)
        """
        diff = to_millis(time_difference, "timeDifference")
        return cls(diff, diff, to_millis(grace, "afterWindowEnd"))

    def before(self, time_difference: Duration) -> JoinWindows:
        """Change how far back the other record may be (may be negative, within ``after_ms``).

        >>> JoinWindows.of_time_difference_with_no_grace(10).before(0).before_ms
        0
        """
        return replace(self, before_ms=to_millis(time_difference, "timeDifference"))

    def after(self, time_difference: Duration) -> JoinWindows:
        """Change how far ahead the other record may be (may be negative, within ``before_ms``).

        >>> JoinWindows.of_time_difference_with_no_grace(10).after(-5).after_ms
        -5
        """
        return replace(self, after_ms=to_millis(time_difference, "timeDifference"))

    def size(self) -> int:
        """``before_ms + after_ms`` (Kafka's ``size()``)."""
        return self.before_ms + self.after_ms

    def grace_period_ms(self) -> int:
        """The grace period in milliseconds (Kafka's ``gracePeriodMs()``)."""
        return self.grace_ms
