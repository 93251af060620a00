"""Exercise 3: stream enrichment — events joined with the latest user data.

User updates on "users" (key: user id, value: a ``User``; a None value deletes the user) form
a table (the store "users"). Events on "events" carry their ``user_id`` in the value, so they
are re-keyed by it (and so repartitioned, co-partitioned with "users") and left-joined with the
table: each event gets the user's name as it is when the event is processed (``user_name`` is
None for an unknown user, as the seed's ``user_data.get('name')``); table updates emit nothing.

Run the demo: ``.venv/bin/python examples/ex3_enrichment.py``.
"""

from __future__ import annotations

import strom
from strom import serdes
from strom.testing import TopologyTestDriver

STORE = "users"


class User(strom.Model):
    name: str
    email: str | None = None


class Event(strom.Model):
    user_id: str
    action: str


class EnrichedEvent(strom.Model):
    user_id: str
    action: str
    user_name: str | None = None


def enrich(event: Event, user: User | None) -> EnrichedEvent:
    """The joiner: the event with the user's name (None when the user is unknown)."""
    return EnrichedEvent(event.user_id, event.action, user.name if user else None)


def build(builder: strom.StreamsBuilder) -> None:
    """Add the enrichment to ``builder`` (a StreamsBuilder or an App)."""
    users = builder.table(
        "users", key_serde=serdes.String(), value_serde=serdes.ModelSerde(User), store=STORE
    )
    (
        builder.stream("events", value_serde=serdes.ModelSerde(Event))
        .select_key(lambda _key, event: event.user_id)
        .left_join(users, enrich, name="events-by-user")
        .to(
            "enriched-events-topic",
            key_serde=serdes.String(),
            value_serde=serdes.ModelSerde(EnrichedEvent),
        )
    )


def topology() -> strom.Topology:
    builder = strom.StreamsBuilder()
    build(builder)
    return builder.build()


if __name__ == "__main__":
    with TopologyTestDriver(topology()) as driver:
        users = driver.create_input_topic("users", serdes.String(), serdes.ModelSerde(User))
        events = driver.create_input_topic("events", value_serde=serdes.ModelSerde(Event))
        users.pipe_input("u1", User("Ada", "ada@example.com"), timestamp=1)
        events.pipe_input("e1", Event("u1", "login"), timestamp=2)
        events.pipe_input("e2", Event("u2", "click"), timestamp=3)
        users.pipe_input("u1", User("Ada L."), timestamp=4)
        events.pipe_input("e3", Event("u1", "logout"), timestamp=5)
        out = driver.create_output_topic(
            "enriched-events-topic", serdes.String(), serdes.ModelSerde(EnrichedEvent)
        )
        for key, value in out.read_key_values_to_list():
            print(f"{key}: {value}")
