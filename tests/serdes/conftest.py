"""A real schema registry for the serde tests that ask for one, started once per session.

scripts/schema_registry.py builds Apicurio Registry (its Confluent-compatible API) with ``mvn``
the first time (cached under build/; about 30 s on a warm ``~/.m2``, minutes on a cold one),
then starts it with in-memory storage on 127.0.0.1 in about 5 s; it is stopped when the session
ends. It is never emptied: tests use subjects of their own. The tests that need it are skipped
only when ``java`` or ``mvn`` is missing; nothing is imported or started for the others.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture(scope="session")
def schema_registry_url() -> str:
    """The base URL of the session's registry (``http://127.0.0.1:PORT/apis/ccompat/v7``)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    import schema_registry

    if missing := schema_registry.missing_tools():
        pytest.skip(f"the schema registry tests need java and mvn; missing: {', '.join(missing)}")
    return schema_registry.shared_registry().url
