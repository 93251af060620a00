"""The schema registry clients without a real registry: ``mock://`` (strom's in-process
registry), Avro's resolution rules it checks compatibility with, and the HTTP client against a
local HTTP server that records requests and answers as a registry would.

The same clients against a real registry (Apicurio) are in test_avro_registry.py.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("fastavro", reason="the avro extra (fastavro) is not installed")

from avro_kit import POINT, POINT_V2, StubRegistry, T
from strom.core.errors import ConfigError, SerializationError
from strom.serdes.avro import AvroSerde
from strom.serdes.schema_registry import (
    MockSchemaRegistryClient,
    SchemaRegistry,
    SchemaRegistryClient,
    SchemaRegistryError,
    reader_problem,
    registry_client,
)


@pytest.fixture
def mock_url() -> Iterator[str]:
    """A ``mock://`` registry of this test's own."""
    scope = f"test-{uuid.uuid4().hex[:8]}"
    yield f"mock://{scope}"
    MockSchemaRegistryClient.reset(scope)


# ----------------------------------------------------------------------------- mock://


def test_mock_registry_is_shared_per_scope(mock_url):
    writer = AvroSerde(POINT, registry=mock_url)
    reader = AvroSerde(registry=mock_url)  # another client of the same scope
    assert reader.deserialize(T, writer.serialize(T, {"x": 5})) == {"x": 5}
    other = AvroSerde(registry=mock_url + "-other")
    with pytest.raises(SerializationError, match="unknown schema id 1"):
        other.deserialize(T, writer.serialize(T, {"x": 5}))
    MockSchemaRegistryClient.reset(mock_url[len("mock://") :] + "-other")


def test_mock_registry_ids_and_versions(mock_url):
    registry = registry_client(mock_url)
    assert isinstance(registry, SchemaRegistry)
    p1, p2 = json.dumps(POINT), json.dumps(POINT_V2)
    assert registry.register("a", p1) == 1
    assert registry.register("a", p1) == 1
    assert registry.register("b", json.dumps(POINT, indent=2)) == 1  # the same schema: one id
    assert registry.register("a", p2) == 2
    assert registry.latest("a") == (2, 2, p2)
    assert registry.latest("b") == (1, 1, p1)  # the schema as first registered
    assert registry.lookup("a", p1) == 1
    assert registry.versions("a") == [1, 2]
    assert registry.subjects() == ["a", "b"]
    assert registry.get_schema(2) == p2
    with pytest.raises(SchemaRegistryError) as info:
        registry.lookup("b", p2)
    assert (info.value.status, info.value.error_code) == (404, 40403)
    with pytest.raises(SchemaRegistryError) as info:
        registry.latest("nope")
    assert (info.value.status, info.value.error_code, info.value.subject) == (404, 40401, "nope")
    with pytest.raises(SchemaRegistryError, match="Invalid schema") as info:
        registry.register("a", "{not json")
    assert info.value.error_code == 42201


def test_mock_registry_enforces_backward_compatibility_by_default(mock_url):
    registry = registry_client(mock_url)
    assert registry.get_compatibility() == "BACKWARD"
    registry.register("s", json.dumps(POINT))
    breaking = {**POINT, "fields": [*POINT["fields"], {"name": "y", "type": "long"}]}
    assert registry.check_compatibility("s", json.dumps(POINT_V2))
    assert not registry.check_compatibility("s", json.dumps(breaking))
    registry.register("t-value", json.dumps(POINT))
    serde = AvroSerde(breaking, registry=registry)
    with pytest.raises(SerializationError) as info:
        serde.serialize("t", {"x": 1, "y": 2})
    assert str(info.value) == (
        "AvroSerde: cannot register the schema for topic 't', subject 't-value': schema "
        f"registry {mock_url}: HTTP 409: Schema being registered is incompatible with an "
        "earlier schema for subject 't-value': the new schema cannot read data written with "
        "id 1: Point.y: the reader's field 'y' has no default and the writer has no such "
        "field (subject 't-value')"
    )
    assert isinstance(info.value.__cause__, SchemaRegistryError)
    with pytest.raises(SchemaRegistryError) as raw:
        registry.register("s", json.dumps(breaking))
    assert raw.value.status == 409
    assert "Point.y: the reader's field 'y' has no default" in str(raw.value)
    registry.set_compatibility("NONE", "s")
    assert registry.get_compatibility("s") == "NONE"
    assert registry.register("s", json.dumps(breaking)) == 2


@pytest.mark.parametrize(
    ("level", "accepted"),
    [
        ("BACKWARD", [True, False, True]),
        ("FORWARD", [False, True, True]),
        ("FULL", [False, False, True]),
        ("NONE", [True, True, True]),
    ],
)
def test_mock_registry_levels(mock_url, level, accepted):
    registry = registry_client(mock_url)
    registry.set_compatibility(level)
    registry.register("s", json.dumps(POINT))
    add_required = {**POINT, "fields": [*POINT["fields"], {"name": "y", "type": "long"}]}
    drop_x = {"type": "record", "name": "Point", "fields": []}
    assert [
        registry.check_compatibility("s", json.dumps(s)) for s in (drop_x, add_required, POINT_V2)
    ] == accepted


def test_transitive_levels_check_every_version(mock_url):
    registry = registry_client(mock_url)
    v1 = {"type": "record", "name": "R", "fields": []}
    v2 = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long", "default": 0}]}
    v3 = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}
    registry.register("s", json.dumps(v1))
    registry.register("s", json.dumps(v2))
    assert registry.check_compatibility("s", json.dumps(v3))  # reads v2's data
    registry.set_compatibility("backward_transitive", "s")
    assert not registry.check_compatibility("s", json.dumps(v3))  # not v1's


# -------------------------------------------------------------- Avro's resolution rules


def _rec(*fields: dict[str, Any], name: str = "R") -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields)}


@pytest.mark.parametrize(
    ("reader", "writer", "problem"),
    [
        ("long", "int", None),
        ("double", "long", None),
        ("bytes", "string", None),
        ("int", "long", "the schema: the writer's long cannot be read as int"),
        (["null", "long"], "int", None),
        ("long", ["null", "long"], "the schema: the writer's null cannot be read as long"),
        (
            ["null", "string"],
            "long",
            "the schema: the writer's long is not in the reader's union",
        ),
        ({"type": "array", "items": "double"}, {"type": "array", "items": "int"}, None),
        (
            {"type": "map", "values": "int"},
            {"type": "map", "values": "string"},
            "{}: the writer's string cannot be read as int",
        ),
        (
            {"type": "enum", "name": "E", "symbols": ["A"]},
            {"type": "enum", "name": "E", "symbols": ["A", "B"]},
            "the schema: enum E of the reader lacks the symbols ['B']",
        ),
        (
            {"type": "enum", "name": "E", "symbols": ["A"], "default": "A"},
            {"type": "enum", "name": "E", "symbols": ["A", "B"]},
            None,
        ),
        (
            {"type": "fixed", "name": "F", "size": 4},
            {"type": "fixed", "name": "F", "size": 8},
            "the schema: fixed F has size 8, the reader 4",
        ),
        (
            _rec({"name": "a", "type": "long"}, name="New"),
            _rec({"name": "a", "type": "long"}, name="Old"),
            "the schema: the writer's record Old is not the reader's New",
        ),
        ({**_rec(name="New"), "aliases": ["Old"]}, _rec(name="Old"), None),
        (
            _rec({"name": "b", "type": "long", "aliases": ["a"]}),
            _rec({"name": "a", "type": "int"}),
            None,
        ),
        (
            _rec({"name": "in", "type": _rec({"name": "v", "type": "int"}, name="In")}),
            _rec({"name": "in", "type": _rec({"name": "v", "type": "string"}, name="In")}),
            "R.in.v: the writer's string cannot be read as int",
        ),
    ],
)
def test_reader_problem(reader, writer, problem):
    assert reader_problem(reader, writer) == problem


def test_reader_problem_follows_named_references_and_recursion():
    node = _rec(
        {"name": "v", "type": "long"},
        {"name": "next", "type": ["null", "Node"], "default": None},
        name="Node",
    )
    assert reader_problem(node, node) is None
    wrapped = {"type": {"type": "long", "logicalType": "timestamp-millis"}}
    assert reader_problem(wrapped, "int") is None


# ------------------------------------------------------------------------- the HTTP client


class FakeRegistryHTTP:
    """A local HTTP server answering registry routes from a table, recording requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], tuple[int, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(body) if body else None,
                    }
                )
                status, payload = outer.routes.get((self.command, self.path), (404, None))
                if payload is None:
                    payload = {"error_code": 404, "message": "HTTP 404 Not Found"}
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http() -> Iterator[FakeRegistryHTTP]:
    server = FakeRegistryHTTP()
    yield server
    server.close()


def _closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_http_register_get_latest_and_caching(http):
    schema = json.dumps(POINT)
    http.routes[("POST", "/subjects/orders-value/versions")] = (200, {"id": 7})
    http.routes[("GET", "/schemas/ids/8")] = (200, {"schema": '"string"'})
    http.routes[("GET", "/subjects/orders-value/versions/latest")] = (
        200,
        {"subject": "orders-value", "id": 7, "version": 3, "schema": schema},
    )
    http.routes[("POST", "/subjects/orders-value")] = (
        200,
        {"subject": "orders-value", "id": 7, "version": 3, "schema": schema},
    )
    client = SchemaRegistryClient(http.url + "/")
    assert client.register("orders-value", schema) == 7
    assert client.register("orders-value", schema) == 7  # cached
    assert client.get_schema(7) == schema  # known from registering
    assert client.get_schema(8) == '"string"'
    assert client.get_schema(8) == '"string"'  # cached
    assert client.latest("orders-value") == (7, 3, schema)
    assert client.latest("orders-value") == (7, 3, schema)  # never cached
    assert client.lookup("orders-value", schema) == 7  # cached by register
    assert [(r["method"], r["path"]) for r in http.requests] == [
        ("POST", "/subjects/orders-value/versions"),
        ("GET", "/schemas/ids/8"),
        ("GET", "/subjects/orders-value/versions/latest"),
        ("GET", "/subjects/orders-value/versions/latest"),
    ]
    first = http.requests[0]
    assert first["body"] == {"schema": schema}
    assert first["headers"]["Content-Type"] == "application/vnd.schemaregistry.v1+json"
    assert "application/vnd.schemaregistry.v1+json" in first["headers"]["Accept"]
    assert "Authorization" not in first["headers"]


def test_http_subjects_are_url_quoted(http):
    http.routes[("POST", "/subjects/a%2Fb%20c/versions")] = (200, {"id": 1})
    assert SchemaRegistryClient(http.url).register("a/b c", '"long"') == 1


def test_http_errors_carry_status_code_message_url_and_subject(http):
    http.routes[("POST", "/subjects/s-value/versions")] = (
        409,
        {"error_code": 409, "message": "Schema being registered is incompatible"},
    )
    http.routes[("GET", "/schemas/ids/5")] = (
        404,
        {"error_code": 40403, "message": "Schema 5 not found"},
    )
    client = SchemaRegistryClient(http.url)
    with pytest.raises(SchemaRegistryError) as info:
        client.register("s-value", '"long"')
    e = info.value
    assert (e.status, e.error_code, e.subject) == (409, 409, "s-value")
    assert e.message == "Schema being registered is incompatible"
    assert str(e) == (
        f"schema registry POST {http.url}/subjects/s-value/versions: HTTP 409: Schema being "
        "registered is incompatible (subject 's-value')"
    )
    with pytest.raises(SchemaRegistryError) as info:
        client.get_schema(5)
    assert (info.value.status, info.value.error_code, info.value.not_found) == (404, 40403, True)
    assert str(info.value) == (
        f"schema registry GET {http.url}/schemas/ids/5: HTTP 404, error code 40403: Schema 5 "
        "not found"
    )


def test_http_error_without_a_json_body(http):
    http.routes[("GET", "/schemas/ids/1")] = (500, b"<html>boom</html>")
    with pytest.raises(SchemaRegistryError) as info:
        SchemaRegistryClient(http.url).get_schema(1)
    assert (info.value.status, info.value.error_code) == (500, None)
    assert "<html>boom</html>" in str(info.value)


def test_http_basic_auth_from_argument_url_and_config(http):
    http.routes[("GET", "/schemas/ids/1")] = (200, {"schema": '"long"'})
    expected = "Basic " + base64.b64encode(b"ann:s3:cret").decode()
    host = http.url.removeprefix("http://")
    clients = [
        SchemaRegistryClient(http.url, basic_auth=("ann", "s3:cret")),
        SchemaRegistryClient(http.url, basic_auth="ann:s3:cret"),
        SchemaRegistryClient(f"http://ann:s3%3Acret@{host}"),
        SchemaRegistryClient.from_config(
            {
                "schema.registry.url": http.url,
                "basic.auth.credentials.source": "USER_INFO",
                "basic.auth.user.info": "ann:s3:cret",
                "bootstrap.servers": "ignored:9092",
            }
        ),
        SchemaRegistryClient.from_config(
            {"url": f"http://ann:s3%3Acret@{host}", "basic.auth.credentials.source": "URL"}
        ),
        SchemaRegistryClient.from_config(
            {
                "schema.registry.url": http.url,
                "schema.registry.basic.auth.user.info": "ann:s3:cret",
            }
        ),
    ]
    for client in clients:
        assert client.urls == (http.url,)
        client.get_schema(1)
    assert [r["headers"].get("Authorization") for r in http.requests] == [expected] * 6


def test_http_extra_headers_and_timeout(http):
    http.routes[("GET", "/schemas/ids/1")] = (200, {"schema": '"long"'})
    client = SchemaRegistryClient(http.url, headers={"X-Tenant": "t1"}, timeout=2.5)
    client.get_schema(1)
    assert http.requests[0]["headers"]["X-Tenant"] == "t1"
    assert client.timeout == 2.5
    assert SchemaRegistryClient.from_config({"url": http.url, "timeout": 3}).timeout == 3.0


def test_http_config_errors():
    with pytest.raises(ConfigError, match=r"no 'schema\.registry\.url'"):
        SchemaRegistryClient.from_config({"basic.auth.user.info": "a:b"})
    with pytest.raises(ConfigError, match="SASL_INHERIT"):
        SchemaRegistryClient.from_config(
            {"url": "http://r:8081", "basic.auth.credentials.source": "SASL_INHERIT"}
        )
    with pytest.raises(ConfigError, match=r"USER_INFO needs basic\.auth\.user\.info"):
        SchemaRegistryClient.from_config(
            {"url": "http://r:8081", "basic.auth.credentials.source": "USER_INFO"}
        )
    with pytest.raises(ConfigError, match="is not an http:// or https:// URL"):
        SchemaRegistryClient("localhost:8081")
    with pytest.raises(ConfigError, match="no schema registry URL"):
        SchemaRegistryClient(" , ")
    with pytest.raises(ConfigError, match="'user:password'"):
        SchemaRegistryClient("http://r:8081", basic_auth="nocolon")


def test_http_failover_to_the_next_url(http):
    http.routes[("GET", "/schemas/ids/1")] = (200, {"schema": '"long"'})
    http.routes[("GET", "/schemas/ids/2")] = (200, {"schema": '"string"'})
    down = _closed_port_url()
    client = SchemaRegistryClient(f"{down}, {http.url}")
    assert client.urls == (down, http.url)
    assert client.get_schema(1) == '"long"'
    assert client.get_schema(2) == '"string"'  # straight to the URL that answered last
    assert len(http.requests) == 2


def test_http_no_url_answers():
    a, b = _closed_port_url(), _closed_port_url()
    with pytest.raises(SchemaRegistryError) as info:
        SchemaRegistryClient([a, b], timeout=2).latest("s")
    message = str(info.value)
    assert info.value.status is None
    assert "no schema registry answered" in message
    assert a in message and b in message and "(subject 's')" in message


def test_http_compatibility_and_config(http):
    path = "/compatibility/subjects/s/versions/latest"
    http.routes[("POST", path)] = (200, {"is_compatible": False})
    http.routes[("POST", "/compatibility/subjects/new/versions/latest")] = (
        404,
        {"error_code": 40401, "message": "Subject 'new' not found."},
    )
    http.routes[("PUT", "/config/s")] = (200, {"compatibility": "FULL"})
    http.routes[("GET", "/config")] = (200, {"compatibilityLevel": "BACKWARD"})
    client = SchemaRegistryClient(http.url)
    assert client.check_compatibility("s", '"long"') is False
    assert client.check_compatibility("new", '"long"') is True
    client.set_compatibility("full", "s")
    assert http.requests[-1]["body"] == {"compatibility": "FULL"}
    assert client.get_compatibility() == "BACKWARD"
    with pytest.raises(ValueError, match="unknown compatibility level 'SOMETIMES'"):
        client.set_compatibility("SOMETIMES")


def test_a_serde_over_http(http):
    schema = json.dumps(POINT, separators=(",", ":"))
    http.routes[("POST", "/subjects/orders-value/versions")] = (200, {"id": 3})
    http.routes[("GET", "/schemas/ids/3")] = (200, {"schema": schema})
    writer = AvroSerde(POINT, registry=http.url)
    data = writer.serialize(T, {"x": 1})
    assert data == b"\x00\x00\x00\x00\x03\x02"
    assert AvroSerde(registry={"schema.registry.url": http.url}).deserialize(T, data) == {"x": 1}
    assert http.requests[0]["body"] == {"schema": schema}


def test_registry_client_coercion(http):
    assert registry_client(None) is None
    stub = StubRegistry()
    assert registry_client(stub) is stub
    assert isinstance(registry_client(http.url), SchemaRegistryClient)
    assert isinstance(registry_client({"url": "mock://c"}), MockSchemaRegistryClient)
    with pytest.raises(TypeError, match="registry= must be a URL"):
        registry_client(42)
    MockSchemaRegistryClient.reset("c")
