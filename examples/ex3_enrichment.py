"""Exercise 3: stream enrichment — events joined with the latest user data.

User updates on "users" (key: user id, value: a ``User``; a None value deletes the user) are
written into the key-value store "users". Events on "events" carry their ``user_id`` in the
value, so they are re-keyed by it and repartitioned (co-partitioned with "users"); the enricher
looks the user up in the same store and writes an ``EnrichedEvent`` to "enriched-events-topic"
(``user_name`` is None for an unknown user, as the seed's ``user_data.get('name')``).

Both processors share the store, so they run in one sub-topology (one task per partition).
TODO: once strom has stream-table joins, this becomes
``events.left_join(builder.table("users", ...), lambda event, user: ...)``.

Run the demo: ``.venv/bin/python examples/ex3_enrichment.py``.
"""

from __future__ import annotations

import strom
from strom import serdes
from strom.processor import Processor, ProcessorContext, Record
from strom.state import Stores
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


class UserWriter(Processor):
    """Keeps the latest ``User`` per user id in the store (a None value deletes it)."""

    def init(self, context: ProcessorContext) -> None:
        self.users = context.get_state_store(STORE)

    def process(self, record: Record) -> None:
        if record.value is None:
            self.users.delete(record.key)
        else:
            self.users.put(record.key, record.value)


class Enricher(Processor):
    """Forwards each event (keyed by user id) with the user's name added."""

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.users = context.get_state_store(STORE)

    def process(self, record: Record) -> None:
        event: Event = record.value
        user: User | None = self.users.get(record.key)
        enriched = EnrichedEvent(event.user_id, event.action, user.name if user else None)
        self.context.forward(record.with_value(enriched))


def build(builder: strom.StreamsBuilder) -> None:
    """Add the enrichment to ``builder`` (a StreamsBuilder or an App)."""
    builder.add_state_store(
        Stores.key_value_store_builder(
            Stores.persistent_key_value_store(STORE), serdes.String(), serdes.ModelSerde(User)
        )
    )
    users = builder.stream("users", key_serde=serdes.String(), value_serde=serdes.ModelSerde(User))
    users.process(UserWriter, STORE)
    (
        builder.stream("events", value_serde=serdes.ModelSerde(Event))
        .select_key(lambda _key, event: event.user_id)
        .repartition(key_serde=serdes.String(), name="events-by-user")
        .process(Enricher, STORE)
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
