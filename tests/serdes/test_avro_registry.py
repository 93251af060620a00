"""AvroSerde against a real schema registry (Apicurio's Confluent-compatible ``ccompat`` API).

The registry is scripts/schema_registry.py's, started once per session by the
``schema_registry_url`` fixture of conftest.py (skipped only when java or mvn is missing).
Every test works on subjects of its own (topics with a random suffix), so the tests do not
see each other's schemas. What is asserted of the registry's answers is Confluent's contract
(HTTP status, ``error_code``), not Apicurio's message texts. The unit tests, which need no
registry, are in test_avro.py, test_avro_model.py and test_schema_registry_client.py.
"""

from __future__ import annotations

import itertools
import json
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

pytest.importorskip("fastavro", reason="the avro extra (fastavro) is not installed")

import strom
from strom.core.errors import SerializationError, StromError
from strom.model import Model
from strom.serdes import String
from strom.serdes.avro import AvroSerde, avro_schema
from strom.serdes.schema_registry import (
    MockSchemaRegistryClient,
    SchemaRegistryClient,
    SchemaRegistryError,
)

# the first test pays for the registry: a first build with mvn takes minutes on a cold ~/.m2
pytestmark = pytest.mark.timeout(600)

S = String()
_names = itertools.count()


@pytest.fixture
def topic() -> Callable[[str], str]:
    """Makes a topic name (and so its subjects) unique to this test."""
    suffix = uuid.uuid4().hex[:8]
    return lambda base="t": f"{base}-{suffix}"


def point(*extra: dict) -> dict:
    return {
        "type": "record",
        "name": "Point",
        "namespace": "strom.test",
        "fields": [{"name": "x", "type": "long"}, *extra],
    }


V1 = point()
V2 = point({"name": "label", "type": "string", "default": "none"})
BREAKING = point({"name": "y", "type": "long"})  # a new field without a default


def schema_id(data: bytes) -> int:
    assert data[0] == 0, data
    return int.from_bytes(data[1:5], "big")


def compact(schema: object) -> str:
    """A schema as AvroSerde sends it (Apicurio matches schemas by their text)."""
    return json.dumps(schema, separators=(",", ":"))


# ------------------------------------------------------------------ the serde and the registry


def test_register_and_read_back_with_a_fresh_serde(schema_registry_url, topic):
    t = topic("points")
    data = AvroSerde(V1, registry=schema_registry_url).serialize(t, {"x": 42})
    reader = AvroSerde(registry=schema_registry_url)  # a client and caches of its own
    assert reader.deserialize(t, data) == {"x": 42}
    assert AvroSerde(V1, registry=schema_registry_url).deserialize(t, data) == {"x": 42}
    client = SchemaRegistryClient(schema_registry_url)
    found_id, version, schema_str = client.latest(f"{t}-value")
    assert (found_id, version) == (schema_id(data), 1)
    assert json.loads(schema_str) == V1
    assert json.loads(client.get_schema(found_id)) == V1
    assert client.lookup(f"{t}-value", compact(V1)) == found_id
    assert f"{t}-value" in client.subjects()


def test_registering_the_same_schema_again_gives_the_same_id(schema_registry_url, topic):
    t = topic()
    first = AvroSerde(V1, registry=schema_registry_url).serialize(t, {"x": 1})
    again = AvroSerde(V1, registry=schema_registry_url).serialize(t, {"x": 2})
    assert schema_id(first) == schema_id(again)
    assert SchemaRegistryClient(schema_registry_url).versions(f"{t}-value") == [1]
    # the same schema under another subject: its id is the registry's business (Confluent and
    # Apicurio both reuse it), but it reads back the same either way
    other = AvroSerde(V1, registry=schema_registry_url).serialize(topic("other"), {"x": 3})
    assert AvroSerde(registry=schema_registry_url).deserialize(t, other) == {"x": 3}


def test_schema_evolution_across_versions(schema_registry_url, topic):
    t = topic()
    subject = f"{t}-value"
    client = SchemaRegistryClient(schema_registry_url)
    v1 = AvroSerde(V1, registry=schema_registry_url)
    old = v1.serialize(t, {"x": 1})
    client.set_compatibility("BACKWARD", subject)
    v2 = AvroSerde(V2, registry=schema_registry_url)
    new = v2.serialize(t, {"x": 2, "label": "two"})
    assert schema_id(old) != schema_id(new)
    assert client.versions(subject) == [1, 2]
    assert client.latest(subject)[:2] == (schema_id(new), 2)
    assert client.get_version(subject, 1)[0] == schema_id(old)
    fresh_v2 = AvroSerde(V2, registry=schema_registry_url)
    assert fresh_v2.deserialize(t, old) == {"x": 1, "label": "none"}  # v1 data read as v2
    assert fresh_v2.deserialize(t, new) == {"x": 2, "label": "two"}
    assert AvroSerde(V1, registry=schema_registry_url).deserialize(t, new) == {"x": 2}
    generic = AvroSerde(registry=schema_registry_url)  # each with its writer's schema
    assert [generic.deserialize(t, d) for d in (old, new)] == [
        {"x": 1},
        {"x": 2, "label": "two"},
    ]


def test_an_incompatible_schema_is_rejected(schema_registry_url, topic):
    t = topic()
    subject = f"{t}-value"
    client = SchemaRegistryClient(schema_registry_url)
    AvroSerde(V1, registry=schema_registry_url).serialize(t, {"x": 1})
    client.set_compatibility("BACKWARD", subject)
    assert client.get_compatibility(subject) == "BACKWARD"
    assert client.check_compatibility(subject, json.dumps(V2)) is True
    assert client.check_compatibility(subject, compact(BREAKING)) is False
    with pytest.raises(SerializationError) as info:
        AvroSerde(BREAKING, registry=schema_registry_url).serialize(t, {"x": 1, "y": 2})
    message = str(info.value)
    assert message.startswith(
        f"AvroSerde: cannot register the schema for topic {t!r}, subject {subject!r}: "
        f"schema registry POST {schema_registry_url}/subjects/{subject}/versions: HTTP 409: "
    ), message
    assert message.endswith(f"(subject {subject!r})"), message
    cause = info.value.__cause__
    assert isinstance(cause, SchemaRegistryError)
    assert (cause.status, cause.error_code, cause.subject) == (409, 409, subject)
    assert cause.message  # the registry's own words (Apicurio's differ from Confluent's)
    assert client.versions(subject) == [1]


def test_the_global_level_applies_to_a_subject_without_its_own(schema_registry_url, topic):
    t = topic()
    subject = f"{t}-value"
    client = SchemaRegistryClient(schema_registry_url)
    assert client.get_compatibility() == "BACKWARD"  # the script sets Confluent's default
    assert client.check_compatibility(subject, compact(BREAKING)) is True  # nothing to break
    AvroSerde(V1, registry=schema_registry_url).serialize(t, {"x": 1})
    assert client.get_compatibility(subject, default_to_global=True) == "BACKWARD"
    assert client.check_compatibility(subject, compact(BREAKING)) is False
    with pytest.raises(SerializationError, match="HTTP 409"):
        AvroSerde(BREAKING, registry=schema_registry_url).serialize(t, {"x": 1, "y": 2})


@pytest.mark.parametrize(
    ("level", "accepted"),
    [
        ("BACKWARD", [True, False, True]),
        ("FORWARD", [False, True, True]),
        ("FULL", [False, False, True]),
    ],
)
def test_levels_agree_with_the_mock_registry(schema_registry_url, topic, level, accepted):
    """The same checks as test_mock_registry_levels: mock:// decides as a real registry does."""
    drop_x = point()
    drop_x["fields"] = []
    candidates = [drop_x, BREAKING, V2]
    mock = MockSchemaRegistryClient(f"levels-{uuid.uuid4().hex[:8]}")
    try:
        for client in (SchemaRegistryClient(schema_registry_url), mock):
            subject = topic(f"levels-{level}")
            client.register(subject, compact(V1))
            client.set_compatibility(level, subject)
            got = [client.check_compatibility(subject, compact(c)) for c in candidates]
            assert got == accepted, client
            assert client.get_compatibility(subject) == level
    finally:
        MockSchemaRegistryClient.reset(mock.scope)


def test_a_subject_level_of_none(schema_registry_url, topic):
    """Confluent: NONE turns the checks off for the subject. Apicurio: NONE removes the
    subject's rule, so the global level (BACKWARD here) still applies; to register an
    incompatible schema there, the global level must allow it."""
    subject = topic("none")
    client = SchemaRegistryClient(schema_registry_url)
    client.register(subject, compact(V1))
    client.set_compatibility("NONE", subject)
    assert client.get_compatibility(subject) == "NONE"
    # the level in force, which Apicurio reports truthfully (Confluent: NONE)
    assert client.get_compatibility(subject, default_to_global=True) == "BACKWARD"
    assert client.check_compatibility(subject, compact(BREAKING)) is False  # Confluent: True
    mock = MockSchemaRegistryClient(f"none-{uuid.uuid4().hex[:8]}")
    try:
        mock.register(subject, compact(V1))
        mock.set_compatibility("NONE", subject)
        assert mock.check_compatibility(subject, compact(BREAKING)) is True  # as Confluent
    finally:
        MockSchemaRegistryClient.reset(mock.scope)


def test_transitive_levels_check_every_version(schema_registry_url, topic):
    subject = topic("transitive")
    client = SchemaRegistryClient(schema_registry_url)
    v1 = {"type": "record", "name": "R", "fields": []}
    v2 = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long", "default": 0}]}
    v3 = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}
    client.register(subject, compact(v1))
    client.register(subject, compact(v2))
    assert client.check_compatibility(subject, compact(v3))  # reads v2's data
    client.set_compatibility("BACKWARD_TRANSITIVE", subject)
    with pytest.raises(SchemaRegistryError) as info:
        client.register(subject, compact(v3))  # not v1's
    assert (info.value.status, info.value.error_code) == (409, 409)


def test_use_latest_version(schema_registry_url, topic):
    t = topic()
    subject = f"{t}-value"
    client = SchemaRegistryClient(schema_registry_url)
    client.register(subject, json.dumps(V1))
    v2_id = client.register(subject, json.dumps(V2))
    serde = AvroSerde(V1, registry=schema_registry_url, use_latest_version=True)
    data = serde.serialize(t, {"x": 7})
    assert schema_id(data) == v2_id  # written with the latest schema, label defaulted
    assert client.versions(subject) == [1, 2]  # nothing registered
    assert AvroSerde(registry=schema_registry_url).deserialize(t, data) == {
        "x": 7,
        "label": "none",
    }
    assert serde.deserialize(t, data) == {"x": 7}
    no_schema = AvroSerde(registry=schema_registry_url, use_latest_version=True)
    assert schema_id(no_schema.serialize(t, {"x": 8, "label": "l"})) == v2_id
    with pytest.raises(SerializationError, match="no latest schema") as info:
        no_schema.serialize(topic("empty"), {"x": 1})
    assert info.value.__cause__.error_code == 40401


def test_a_key_serde_uses_the_key_subject(schema_registry_url, topic):
    t = topic()
    client = SchemaRegistryClient(schema_registry_url)
    key_serde = AvroSerde('"string"', registry=schema_registry_url, is_key=True)
    data = key_serde.serialize(t, "k-1")
    assert client.latest(f"{t}-key")[0] == schema_id(data)
    assert client.versions(f"{t}-key") == [1]
    with pytest.raises(SchemaRegistryError) as info:
        client.latest(f"{t}-value")
    assert (info.value.status, info.value.error_code) == (404, 40401)
    assert info.value.not_found
    assert AvroSerde(registry=schema_registry_url, is_key=True).deserialize(t, data) == "k-1"


def test_record_name_strategies(schema_registry_url, topic):
    t = topic()
    client = SchemaRegistryClient(schema_registry_url)
    record_v1 = point()
    record_v1["name"] = f"Point{t.replace('-', '_')}"  # a subject of this test's own
    full = f"strom.test.{record_v1['name']}"
    by_record = AvroSerde(record_v1, registry=schema_registry_url, subject_name_strategy="record")
    data = by_record.serialize(t, {"x": 1})
    assert by_record.serialize(topic("elsewhere"), {"x": 2})[:5] == data[:5]  # one subject
    AvroSerde(
        record_v1, registry=schema_registry_url, subject_name_strategy="topic_record"
    ).serialize(t, {"x": 1})
    assert client.latest(full)[:2] == (schema_id(data), 1)
    assert client.latest(f"{t}-{full}")[1] == 1
    assert client.versions(full) == [1]
    with pytest.raises(SchemaRegistryError) as info:
        client.latest(f"{t}-value")
    assert info.value.error_code == 40401
    assert AvroSerde(registry=schema_registry_url).deserialize(t, data) == {"x": 1}


def test_auto_register_off_needs_a_registered_schema(schema_registry_url, topic):
    t = topic()
    serde = AvroSerde(V1, registry=schema_registry_url, auto_register_schemas=False)
    with pytest.raises(SerializationError, match="the schema is not registered") as info:
        serde.serialize(t, {"x": 1})
    assert info.value.__cause__.error_code == 40401  # no such subject
    client = SchemaRegistryClient(schema_registry_url)
    client.register(f"{t}-value", compact(V2))
    with pytest.raises(SerializationError, match="the schema is not registered") as info:
        AvroSerde(V1, registry=schema_registry_url, auto_register_schemas=False).serialize(
            t, {"x": 1}
        )
    assert info.value.__cause__.error_code == 40403  # not under this subject
    registered = client.register(f"{t}-value", compact(V1))
    fresh = AvroSerde(V1, registry=schema_registry_url, auto_register_schemas=False)
    assert schema_id(fresh.serialize(t, {"x": 1})) == registered
    assert client.versions(f"{t}-value") == [1, 2]


def test_an_unknown_schema_id(schema_registry_url, topic):
    serde = AvroSerde(registry=schema_registry_url)
    with pytest.raises(SerializationError, match="unknown schema id 2147483000") as info:
        serde.deserialize(topic(), b"\x00" + (2147483000).to_bytes(4, "big") + b"\x02")
    assert isinstance(info.value.__cause__, SchemaRegistryError)
    assert (info.value.__cause__.status, info.value.__cause__.error_code) == (404, 40403)


def test_registry_errors_carry_confluents_codes(schema_registry_url, topic):
    subject = topic("codes")
    client = SchemaRegistryClient(schema_registry_url)
    client.register(subject, compact(V1))
    cases = [
        (lambda: client.get_version(subject, 9), 404, 40402),
        (lambda: client.versions(topic("missing")), 404, 40401),
        (lambda: client.register(subject, '{"type": "record"}'), 422, 42201),
    ]
    for call, status, code in cases:
        with pytest.raises(SchemaRegistryError) as info:
            call()
        assert (info.value.status, info.value.error_code) == (status, code), info.value
        assert f"HTTP {status}" in str(info.value)


def test_delete_subject(schema_registry_url, topic):
    subject = topic("deleted")
    client = SchemaRegistryClient(schema_registry_url)
    client.register(subject, compact(V1))
    assert client.delete_subject(subject) == [1]
    with pytest.raises(SchemaRegistryError) as info:
        client.versions(subject)
    assert info.value.error_code == 40401
    assert subject not in client.subjects()


class Reading(Model, namespace="strom.test"):
    sensor: str
    value: float
    at: datetime
    tags: list[str] = []
    note: str | None = None


def at(second: int) -> datetime:
    return datetime(2024, 5, 6, 7, 8, second, 123000, tzinfo=UTC)


def test_a_model_through_the_registry(schema_registry_url, topic):
    t = topic()
    serde = AvroSerde(Reading, registry=schema_registry_url)
    reading = Reading("s-1", 21.5, at(9), ["a"])
    data = serde.serialize(t, reading)
    assert AvroSerde(Reading, registry=schema_registry_url).deserialize(t, data) == reading
    generic = AvroSerde(registry=schema_registry_url).deserialize(t, data)
    assert generic == {
        "sensor": "s-1",
        "value": 21.5,
        "at": reading.at,
        "tags": ["a"],
        "note": None,
    }
    latest = SchemaRegistryClient(schema_registry_url).latest(f"{t}-value")
    assert json.loads(latest[2]) == avro_schema(Reading)


def test_failover_past_a_dead_url(schema_registry_url, topic):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    t = topic()
    serde = AvroSerde(V1, registry=f"{dead},{schema_registry_url}")
    data = serde.serialize(t, {"x": 3})
    assert AvroSerde(registry=schema_registry_url).deserialize(t, data) == {"x": 3}


# ------------------------------------------------------------------------ an app, end to end


class Alert(Model, namespace="strom.test"):
    sensor: str
    fahrenheit: float
    at: datetime


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def produce_readings(client: strom.Client, source: str, url: str, poison: bool = False) -> None:
    """Three readings, Avro-framed by a serde of their own; with ``poison`` a record with a
    bad magic byte at offset 1."""
    writer = AvroSerde(Reading, registry=url)
    readings = [
        Reading("s-1", 21.5, at(1)),
        Reading("s-2", 35.0, at(2), ["roof"]),
        Reading("s-3", 37.5, at(3), note="hot"),
    ]
    client.create_topic(source)
    for i, reading in enumerate(readings):
        if poison and i == 1:
            client.produce(source, b"\x01" + writer.serialize(source, reading)[1:], key="bad")
        client.produce(
            source, reading, key=reading.sensor, key_serde=S, value_serde=writer, timestamp=i
        )


def alerting_app(broker: str, source: str, sink: str, url: str, tmp_path, **options) -> strom.App:
    app = strom.App(
        f"avro-{next(_names)}",
        broker=broker,
        state_dir=str(tmp_path / "state"),
        commit_interval_ms=10,
        **options,
    )
    (
        app.stream(source, key_serde=S, value_serde=AvroSerde(Reading, registry=url))
        .filter(lambda _, reading: reading.value > 30)
        .map_values(lambda r: Alert(r.sensor, r.value * 9 / 5 + 32, r.at))
        .to(sink, key_serde=S, value_serde=AvroSerde(Alert, registry=url))
    )
    return app


def test_an_app_reads_and_writes_avro_through_the_registry(schema_registry_url, topic, tmp_path):
    url = schema_registry_url
    source, sink = topic("readings"), topic("alerts")
    broker = f"memory://avro-e2e-{next(_names)}"
    with strom.Client(broker) as client:
        produce_readings(client, source, url)
        client.create_topic(sink)
        app = alerting_app(broker, source, sink, url, tmp_path)
        app.start()
        try:
            wait_for(lambda: len(client.read(sink)) == 2)
        finally:
            app.close()
        raw = client.read(sink)
        decoded = client.read(sink, S, AvroSerde(Alert, registry=url))  # a fresh serde
    registry = SchemaRegistryClient(url)
    alert_id, version, schema_str = registry.latest(f"{sink}-value")
    assert (version, json.loads(schema_str)) == (1, avro_schema(Alert))
    assert [schema_id(r.value) for r in raw] == [alert_id, alert_id]
    assert [(r.key, r.value) for r in decoded] == [
        ("s-2", Alert("s-2", 95.0, at(2))),
        ("s-3", Alert("s-3", 99.5, at(3))),
    ]
    generic = AvroSerde(registry=url)
    assert generic.deserialize(sink, raw[0].value) == {
        "sensor": "s-2",
        "fahrenheit": 95.0,
        "at": at(2),
    }


def test_a_poison_record_is_skipped_and_counted(schema_registry_url, topic, tmp_path):
    url = schema_registry_url
    source, sink = topic("readings"), topic("alerts")
    broker = f"memory://avro-e2e-{next(_names)}"
    with strom.Client(broker) as client:
        produce_readings(client, source, url, poison=True)
        client.create_topic(sink)
        app = alerting_app(
            broker,
            source,
            sink,
            url,
            tmp_path,
            deserialization_exception_handler="log_and_continue",
        )
        app.start()
        try:
            wait_for(lambda: len(client.read(sink)) == 2)
            assert app._running is not None
            skipped = sum(
                owned.task.metrics.skipped_deserialization for owned in app._running.tasks.values()
            )
        finally:
            app.close()
        decoded = client.read(sink, S, AvroSerde(Alert, registry=url))
    assert skipped == 1
    assert [(r.key, r.value) for r in decoded] == [
        ("s-2", Alert("s-2", 95.0, at(2))),
        ("s-3", Alert("s-3", 99.5, at(3))),
    ]


def test_a_poison_record_stops_the_app_by_default(schema_registry_url, topic, tmp_path):
    url = schema_registry_url
    source, sink = topic("readings"), topic("alerts")
    broker = f"memory://avro-e2e-{next(_names)}"
    with strom.Client(broker) as client:
        produce_readings(client, source, url, poison=True)
        client.create_topic(sink)
        app = alerting_app(broker, source, sink, url, tmp_path)
        app.start()
        wait_for(lambda: not app.is_running)
        with pytest.raises(StromError) as info:
            app.close()
        out = client.read(sink)
    message = str(info.value)
    assert "unknown magic byte 0x01" in message, message
    assert f"topic={source!r}, partition=0, offset=1" in message, message
    assert len(out) == 0  # s-1 is filtered out; nothing after the poison record is processed
