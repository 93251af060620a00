"""Shared helpers of the Avro tests (tests/serdes/test_avro*.py): schemas, the bare Avro
encoding of a value, and a registry client stub."""

from __future__ import annotations

import io
from typing import Any

import fastavro

from strom.serdes.schema_registry import SchemaRegistryError

T = "orders"

POINT = {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "long"}]}
POINT_V2 = {
    "type": "record",
    "name": "Point",
    "fields": [
        {"name": "x", "type": "long"},
        {"name": "label", "type": "string", "default": "none"},
    ],
}


def avro(schema: Any, value: Any) -> bytes:
    """The bare Avro encoding of ``value``, written by fastavro directly."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), value)
    return out.getvalue()


class StubRegistry:
    """A registry client of our own: fixed ids, and a log of the calls."""

    def __init__(self, first_id: int = 1) -> None:
        self.next_id = first_id
        self.by_id: dict[int, str] = {}
        self.subjects: dict[str, list[int]] = {}
        self.calls: list[tuple[str, Any]] = []

    def register(self, subject: str, schema_str: str) -> int:
        self.calls.append(("register", subject))
        for schema_id in self.subjects.get(subject, []):
            if self.by_id[schema_id] == schema_str:
                return schema_id
        schema_id, self.next_id = self.next_id, self.next_id + 1
        self.by_id[schema_id] = schema_str
        self.subjects.setdefault(subject, []).append(schema_id)
        return schema_id

    def lookup(self, subject: str, schema_str: str) -> int:
        self.calls.append(("lookup", subject))
        for schema_id in self.subjects.get(subject, []):
            if self.by_id[schema_id] == schema_str:
                return schema_id
        raise SchemaRegistryError("Schema not found", status=404, error_code=40403)

    def get_schema(self, schema_id: int) -> str:
        self.calls.append(("get_schema", schema_id))
        if schema_id not in self.by_id:
            raise SchemaRegistryError(f"Schema {schema_id} not found", status=404, error_code=40403)
        return self.by_id[schema_id]

    def latest(self, subject: str) -> tuple[int, int, str]:
        self.calls.append(("latest", subject))
        versions = self.subjects.get(subject)
        if not versions:
            raise SchemaRegistryError("Subject not found", status=404, error_code=40401)
        return versions[-1], len(versions), self.by_id[versions[-1]]

    def check_compatibility(self, subject: str, schema_str: str) -> bool:
        return True
