"""Exercise 5: detect user sessions with a 5-minute inactivity gap.

Activity events on "activity" (keyed by user id; event time in the record timestamp) are
grouped into sessions: a session ends after 5 minutes without events, and two sessions
merge when an event falls between them. For each session we keep the number of events;
"sessions-topic" gets one record per *closed* session, as the seed's sample emits it:
``{"user_id": ..., "start": ..., "end": ..., "count": ...}`` (times in seconds).

Run the demo: ``.venv/bin/python examples/ex5_sessions.py``.
"""

from __future__ import annotations

from datetime import timedelta

import strom
from strom import SessionWindows, Suppressed, serdes
from strom.testing import TopologyTestDriver

GAP = SessionWindows.of_inactivity_gap_with_no_grace(timedelta(minutes=5))
STORE = "user-sessions"


def as_session(windowed: strom.Windowed, count: int) -> tuple[str, dict]:
    return windowed.key, {
        "user_id": windowed.key,
        "start": windowed.window.start // 1000,
        "end": windowed.window.end // 1000,
        "count": count,
    }


def build(builder: strom.StreamsBuilder) -> strom.KTable:
    sessions = (
        builder.stream("activity", key_serde=serdes.String(), value_serde=serdes.Json())
        .group_by_key()
        .windowed_by(GAP)
        .count(store=STORE)
    )
    (
        sessions.suppress(Suppressed.until_window_closes(Suppressed.BufferConfig.unbounded()))
        .to_stream()
        .map(as_session)
        .to("sessions-topic", key_serde=serdes.String(), value_serde=serdes.Json())
    )
    return sessions


def topology() -> strom.Topology:
    builder = strom.StreamsBuilder()
    build(builder)
    return builder.build()


if __name__ == "__main__":
    with TopologyTestDriver(topology(), {"application.id": "ex5"}) as driver:
        activity = driver.create_input_topic("activity", serdes.String(), serdes.Json())
        for seconds, user in [
            (0, "ann"),
            (60, "ann"),
            (100, "bob"),
            (400, "ann"),
            (900, "bob"),
            (1300, "ann"),
        ]:
            activity.pipe_input(user, {"action": "click"}, timestamp=seconds * 1000)
        out = driver.create_output_topic("sessions-topic", serdes.String(), serdes.Json())
        for session in out.read_values_to_list():
            print(session)
