"""Session window spec: :class:`SessionWindows` (sessions split by an inactivity gap)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from strom.core.types import to_millis

Duration = int | timedelta


@dataclass(frozen=True, slots=True)
class SessionWindows:
    """Sessions per key: records less than ``inactivity_gap`` apart share a session.

    A session window ``[start, end]`` spans the timestamps of its first and last record, both
    inclusive; a record that bridges two sessions merges them.

    >>> SessionWindows.of_inactivity_gap_and_grace(300_000, 30_000)
    SessionWindows(inactivity_gap_ms=300000, grace_ms=30000)
    """

    inactivity_gap_ms: int
    grace_ms: int = 0

    def __post_init__(self) -> None:
        if self.inactivity_gap_ms <= 0:
            raise ValueError(
                f"Gap time cannot be zero or negative, but given gap is: "
                f"{self.inactivity_gap_ms} ms"
            )
        if self.grace_ms < 0:
            raise ValueError(f"Grace period must not be negative: {self.grace_ms} ms")

    @classmethod
    def of_inactivity_gap_with_no_grace(cls, inactivity_gap: Duration) -> SessionWindows:
        """Sessions with no grace period (out-of-order records after session end are dropped).

        >>> SessionWindows.of_inactivity_gap_with_no_grace(timedelta(minutes=5)).inactivity_gap_ms
        300000
        """
        return cls.of_inactivity_gap_and_grace(inactivity_gap, 0)

    @classmethod
    def of_inactivity_gap_and_grace(
        cls, inactivity_gap: Duration, grace: Duration
    ) -> SessionWindows:
        """Sessions accepting out-of-order records up to ``grace`` after session end.

        >>> SessionWindows.of_inactivity_gap_and_grace(10, 2).grace_ms
        2
        """
        return cls(to_millis(inactivity_gap, "inactivityGap"), to_millis(grace, "afterWindowEnd"))

    def inactivity_gap(self) -> int:
        """The inactivity gap in milliseconds (Kafka's ``inactivityGap()``)."""
        return self.inactivity_gap_ms

    def grace_period_ms(self) -> int:
        """The grace period in milliseconds (Kafka's ``gracePeriodMs()``)."""
        return self.grace_ms
