"""A client for a Confluent-compatible schema registry (Confluent, Apicurio's ``ccompat`` API,
Redpanda, Karapace), on the standard library's ``urllib``; and ``mock://`` registries in memory.

:class:`SchemaRegistryClient` speaks the registry's REST API: it registers schemas under
subjects, fetches them by id and checks compatibility, caching what never changes (the id of a
schema under a subject, the schema of an id). :class:`MockSchemaRegistryClient` is a registry in
this process, for tests and examples, like Confluent's ``mock://`` URLs.

Errors are :class:`SchemaRegistryError`: the HTTP status, Confluent's ``error_code`` and message,
the URL and the subject.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from strom.core.errors import ConfigError, StromError

__all__ = [
    "MockSchemaRegistryClient",
    "SchemaRegistry",
    "SchemaRegistryClient",
    "SchemaRegistryError",
    "registry_client",
]

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_ACCEPT = (
    "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json"
)
#: Statuses on which the next URL of a comma-separated list is tried (the node is unavailable).
_FAILOVER_STATUSES = frozenset({502, 503, 504})
_LEVELS = frozenset(
    {
        "NONE",
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    }
)


class SchemaRegistryError(StromError):
    """A schema registry refused a request or could not be reached.

    Attributes:
        status: the HTTP status (None: no registry answered).
        error_code: Confluent's ``error_code`` (``40401`` subject not found, ``40403`` schema
            not found, ``409`` incompatible schema, ``42201`` invalid schema, ...) or None.
        message: the registry's own message.
        url: the URL of the request (all URLs tried when none answered).
        subject: the subject of the request, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
        url: str | None = None,
        subject: str | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.message = message
        self.url = url
        self.subject = subject
        parts = []
        if status is not None:
            parts.append(f"HTTP {status}")
        if error_code is not None and error_code != status:
            parts.append(f"error code {error_code}")
        head = f"schema registry {url}" if url else "schema registry"
        text = f"{head}: {', '.join(parts)}: {message}" if parts else f"{head}: {message}"
        if subject is not None:
            text += f" (subject {subject!r})"
        super().__init__(text)

    @property
    def not_found(self) -> bool:
        """The subject, version or schema id does not exist (HTTP 404)."""
        return self.status == 404


@runtime_checkable
class SchemaRegistry(Protocol):
    """What :class:`~strom.serdes.avro.AvroSerde` needs of a registry client.

    :class:`SchemaRegistryClient` and :class:`MockSchemaRegistryClient` have it; so may a
    class of your own. Lookups that find nothing raise :class:`SchemaRegistryError` with
    ``status=404``.
    """

    def register(self, subject: str, schema_str: str) -> int: ...

    def lookup(self, subject: str, schema_str: str) -> int: ...

    def get_schema(self, schema_id: int) -> str: ...

    def latest(self, subject: str) -> tuple[int, int, str]: ...

    def check_compatibility(self, subject: str, schema_str: str) -> bool: ...


# ------------------------------------------------------------------------------------ HTTP


class SchemaRegistryClient:
    """A client for a Confluent-compatible schema registry's REST API.

    Args:
        url: the registry's base URL (``http://localhost:8081``; for Apicurio
            ``http://host:8080/apis/ccompat/v7``); several, comma-separated or as a list, are
            tried in turn while one cannot be reached. ``user:password@`` in a URL is used for
            basic auth unless ``basic_auth`` is given.
        basic_auth: ``(user, password)`` or ``"user:password"``.
        timeout: seconds per HTTP request.
        headers: extra HTTP headers sent with every request.

    Ids of registered schemas and schemas fetched by id are cached (they never change);
    :meth:`latest` always asks the registry.

    >>> client = SchemaRegistryClient("http://r1:8081, http://r2:8081")
    >>> client.urls
    ('http://r1:8081', 'http://r2:8081')
    """

    def __init__(
        self,
        url: str | Sequence[str],
        *,
        basic_auth: tuple[str, str] | str | None = None,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        raw = url.split(",") if isinstance(url, str) else list(url)
        urls: list[str] = []
        url_auth: tuple[str, str] | None = None
        for u in raw:
            u = u.strip()
            if not u:
                continue
            parts = urllib.parse.urlsplit(u)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"schema registry URL {u!r} is not an http:// or https:// URL")
            if parts.username is not None:
                url_auth = (
                    urllib.parse.unquote(parts.username),
                    urllib.parse.unquote(parts.password or ""),
                )
                netloc = parts.netloc.rpartition("@")[2]
                u = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
            urls.append(u.rstrip("/"))
        if not urls:
            raise ConfigError(f"no schema registry URL in {url!r}")
        if timeout <= 0:
            raise ConfigError(f"schema registry timeout must be positive, got {timeout!r}")
        self.urls: tuple[str, ...] = tuple(urls)
        self.timeout = float(timeout)
        auth = _auth_pair(basic_auth) if basic_auth is not None else url_auth
        self._headers = {"Content-Type": _CONTENT_TYPE, "Accept": _ACCEPT}
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        if headers:
            self._headers.update(headers)
        self._preferred = 0  # the index of the URL that answered last
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, str] = {}
        self._opener = urllib.request.build_opener()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SchemaRegistryClient:
        """A client from Confluent's configuration keys.

        Understands ``schema.registry.url`` (or ``url``), ``basic.auth.user.info``
        (``user:password``) with ``basic.auth.credentials.source`` ``USER_INFO`` (the default
        when user info is given) or ``URL`` (credentials in the URL), each also with the
        ``schema.registry.`` prefix; ``timeout`` in seconds or ``request.timeout.ms``. Other
        keys are ignored, so a whole Kafka configuration may be passed.

        >>> client = SchemaRegistryClient.from_config({
        ...     "schema.registry.url": "https://registry:8081",
        ...     "basic.auth.credentials.source": "USER_INFO",
        ...     "basic.auth.user.info": "ann:secret",
        ... })
        >>> client.urls
        ('https://registry:8081',)
        """
        url = _config_value(config, "url")
        if not url:
            raise ConfigError(
                "schema registry configuration has no 'schema.registry.url' (or 'url')"
            )
        source = str(_config_value(config, "basic.auth.credentials.source") or "").upper()
        user_info = _config_value(config, "basic.auth.user.info")
        if source not in ("", "USER_INFO", "URL"):
            raise ConfigError(
                f"basic.auth.credentials.source={source!r} is not supported: use USER_INFO "
                "(with basic.auth.user.info) or URL"
            )
        if source == "USER_INFO" and not user_info:
            raise ConfigError(
                "basic.auth.credentials.source=USER_INFO needs basic.auth.user.info "
                "('user:password')"
            )
        auth = str(user_info) if user_info and source != "URL" else None
        timeout = config.get("timeout", config.get("schema.registry.timeout"))
        timeout_ms = _config_value(config, "request.timeout.ms")
        if timeout is None and timeout_ms is not None:
            timeout = int(timeout_ms) / 1000
        if isinstance(url, str) and url.startswith("mock://"):
            raise ConfigError("use registry_client() (or MockSchemaRegistryClient) for mock://")
        return cls(url, basic_auth=auth, timeout=float(timeout or 10.0))

    # -- the API --------------------------------------------------------------------------------

    def register(self, subject: str, schema_str: str) -> int:
        """Register ``schema_str`` (Avro JSON) under ``subject``; its id (cached).

        Registering a schema the subject already has returns its id; a schema the subject's
        compatibility rule refuses raises :class:`SchemaRegistryError` (HTTP 409).
        """
        key = (subject, schema_str)
        found = self._ids.get(key)
        if found is not None:
            return found
        body = self._request(
            "POST", f"/subjects/{_quote(subject)}/versions", {"schema": schema_str}, subject
        )
        schema_id = int(body["id"])
        self._ids[key] = schema_id
        self._schemas.setdefault(schema_id, schema_str)
        return schema_id

    def lookup(self, subject: str, schema_str: str) -> int:
        """The id of ``schema_str`` if it is registered under ``subject`` (cached); a
        :class:`SchemaRegistryError` with status 404 if not."""
        key = (subject, schema_str)
        found = self._ids.get(key)
        if found is not None:
            return found
        body = self._request(
            "POST", f"/subjects/{_quote(subject)}", {"schema": schema_str}, subject
        )
        schema_id = int(body["id"])
        self._ids[key] = schema_id
        self._schemas.setdefault(schema_id, schema_str)
        return schema_id

    def get_schema(self, schema_id: int) -> str:
        """The schema (JSON text) with this id (cached)."""
        found = self._schemas.get(schema_id)
        if found is not None:
            return found
        body = self._request("GET", f"/schemas/ids/{int(schema_id)}", None, None)
        schema_str = str(body["schema"])
        self._schemas[schema_id] = schema_str
        return schema_str

    def latest(self, subject: str) -> tuple[int, int, str]:
        """``(id, version, schema_str)`` of the latest version under ``subject`` (not cached)."""
        return self.get_version(subject, "latest")

    def get_version(self, subject: str, version: int | str) -> tuple[int, int, str]:
        """``(id, version, schema_str)`` of one version (a number or ``"latest"``)."""
        path = f"/subjects/{_quote(subject)}/versions/{_quote(str(version))}"
        body = self._request("GET", path, None, subject)
        schema_id, schema_str = int(body["id"]), str(body["schema"])
        self._schemas.setdefault(schema_id, schema_str)
        return schema_id, int(body["version"]), schema_str

    def versions(self, subject: str) -> list[int]:
        """The version numbers registered under ``subject``."""
        return [int(v) for v in self._request("GET", f"/subjects/{_quote(subject)}/versions")]

    def subjects(self) -> list[str]:
        """Every subject of the registry."""
        return [str(s) for s in self._request("GET", "/subjects")]

    def check_compatibility(self, subject: str, schema_str: str) -> bool:
        """Whether the subject's compatibility rule would accept ``schema_str`` against its
        latest version; True when the subject has no versions yet."""
        path = f"/compatibility/subjects/{_quote(subject)}/versions/latest"
        try:
            body = self._request("POST", path, {"schema": schema_str}, subject)
        except SchemaRegistryError as e:
            if e.error_code in (40401, 40402):  # no such subject or version: nothing to break
                return True
            raise
        return bool(body.get("is_compatible"))

    def set_compatibility(self, level: str, subject: str | None = None) -> None:
        """Set the compatibility level (``BACKWARD``, ``FULL_TRANSITIVE``, ``NONE``, ...) of
        ``subject``, or the registry's global default."""
        level = _level(level)
        path = f"/config/{_quote(subject)}" if subject is not None else "/config"
        self._request("PUT", path, {"compatibility": level}, subject)

    def get_compatibility(self, subject: str | None = None, default_to_global: bool = False) -> str:
        """The compatibility level of ``subject``, or the registry's global default.

        A subject without a level of its own: Confluent answers 404 (error code 40408),
        Apicurio ``NONE``; ``default_to_global=True`` gives the level in force on both.
        """
        path = f"/config/{_quote(subject)}" if subject is not None else "/config"
        if subject is not None and default_to_global:
            path += "?defaultToGlobal=true"
        body = self._request("GET", path, None, subject)
        return str(body.get("compatibilityLevel") or body.get("compatibility"))

    def delete_subject(self, subject: str, permanent: bool = False) -> list[int]:
        """Delete ``subject`` (soft; ``permanent=True`` then deletes it for good); its
        versions. Cached ids under it are forgotten."""
        path = f"/subjects/{_quote(subject)}"
        versions = self._request("DELETE", path, None, subject)
        if permanent:
            versions = self._request("DELETE", path + "?permanent=true", None, subject)
        for key in [k for k in self._ids if k[0] == subject]:
            del self._ids[key]
        return [int(v) for v in versions]

    # -- HTTP -----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None, subject: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        n = len(self.urls)
        unreachable: list[str] = []
        last: SchemaRegistryError | None = None
        for i in range(n):
            index = (self._preferred + i) % n
            url = self.urls[index] + path
            request = urllib.request.Request(url, data=data, method=method, headers=self._headers)
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    payload = response.read()
            except urllib.error.HTTPError as e:
                error = _http_error(e, f"{method} {url}", subject)
                if e.code in _FAILOVER_STATUSES and i < n - 1:
                    last = error
                    unreachable.append(f"{url}: HTTP {e.code}")
                    continue
                raise error from None
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                unreachable.append(f"{url}: {type(reason).__name__}: {reason}")
                continue
            self._preferred = index
            if not payload:
                return None
            try:
                return json.loads(payload)
            except ValueError:
                raise SchemaRegistryError(
                    f"the answer is not JSON: {payload[:200]!r}",
                    status=200,
                    url=f"{method} {url}",
                    subject=subject,
                ) from None
        if last is not None and len(unreachable) == 1:
            raise last
        raise SchemaRegistryError(
            f"no schema registry answered ({'; '.join(unreachable)})",
            url=f"{method} {path}",
            subject=subject,
        )

    def __repr__(self) -> str:
        return f"SchemaRegistryClient({', '.join(self.urls)!r})"


def _http_error(e: urllib.error.HTTPError, url: str, subject: str | None) -> SchemaRegistryError:
    try:
        raw = e.read()
    except OSError:
        raw = b""
    code: int | None = None
    message = ""
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        code = parsed.get("error_code")
        message = str(parsed.get("message") or parsed.get("detail") or "")
        code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    if not message:
        message = raw.decode("utf-8", "replace").strip()[:500] or str(e.reason)
    return SchemaRegistryError(message, status=e.code, error_code=code, url=url, subject=subject)


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _auth_pair(auth: tuple[str, str] | str) -> tuple[str, str]:
    if isinstance(auth, str):
        user, sep, password = auth.partition(":")
        if not sep:
            raise ConfigError("basic auth user info must be 'user:password'")
        return user, password
    user, password = auth
    return str(user), str(password)


def _config_value(config: Mapping[str, Any], key: str) -> Any:
    found = config.get(f"schema.registry.{key}")
    return found if found is not None else config.get(key)


def _level(level: str) -> str:
    up = str(level).upper()
    if up not in _LEVELS:
        raise ValueError(f"unknown compatibility level {level!r}: one of {sorted(_LEVELS)}")
    return up


# ------------------------------------------------------------------------------------ mock://


class _MockScope:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.schemas: list[str] = []  # id - 1 -> schema
        self.ids: dict[str, int] = {}  # canonical schema -> id
        self.subjects: dict[str, list[int]] = {}  # subject -> ids of its versions, in order
        self.levels: dict[str | None, str] = {None: "BACKWARD"}


_SCOPES: dict[str, _MockScope] = {}
_SCOPES_LOCK = threading.Lock()


class MockSchemaRegistryClient:
    """A schema registry in this process, for tests and examples (Confluent's ``mock://``).

    Clients of the same ``scope`` (``mock://orders`` is scope ``"orders"``) share one registry.
    Like Confluent's, it assigns ids from 1, numbers versions from 1, registers a schema once
    per subject and enforces compatibility levels (``BACKWARD`` by default) with Avro's
    schema-resolution rules.

    >>> registry = MockSchemaRegistryClient("registry-doctest")
    >>> registry.register("t-value", '"string"')
    1
    >>> registry.latest("t-value")
    (1, 1, '"string"')
    >>> MockSchemaRegistryClient.reset("registry-doctest")
    """

    def __init__(self, scope: str = "") -> None:
        self.scope = scope
        with _SCOPES_LOCK:
            self._state = _SCOPES.setdefault(scope, _MockScope())
        self.urls = (f"mock://{scope}",)

    @staticmethod
    def reset(scope: str | None = None) -> None:
        """Forget the registry of ``scope`` (all scopes if None)."""
        with _SCOPES_LOCK:
            if scope is None:
                _SCOPES.clear()
            else:
                _SCOPES.pop(scope, None)

    def _error(self, status: int, code: int, message: str, subject: str | None) -> Exception:
        return SchemaRegistryError(
            message, status=status, error_code=code, url=self.urls[0], subject=subject
        )

    def _parse(self, schema_str: str, subject: str) -> tuple[Any, str]:
        try:
            schema = json.loads(schema_str)
        except ValueError as e:
            raise self._error(422, 42201, f"Invalid schema: {e}", subject) from None
        return schema, json.dumps(schema, sort_keys=True, separators=(",", ":"))

    def register(self, subject: str, schema_str: str) -> int:
        schema, canonical = self._parse(schema_str, subject)
        s = self._state
        with s.lock:
            found = s.ids.get(canonical)
            if found is not None and found in s.subjects.get(subject, ()):
                return found
            problem = self._incompatible(subject, schema)
            if problem:
                raise self._error(
                    409,
                    409,
                    f"Schema being registered is incompatible with an earlier schema for "
                    f"subject {subject!r}: {problem}",
                    subject,
                )
            if found is None:
                s.schemas.append(schema_str)
                found = s.ids[canonical] = len(s.schemas)
            s.subjects.setdefault(subject, []).append(found)
            return found

    def lookup(self, subject: str, schema_str: str) -> int:
        _, canonical = self._parse(schema_str, subject)
        s = self._state
        with s.lock:
            if subject not in s.subjects:
                raise self._error(404, 40401, f"Subject {subject!r} not found.", subject)
            found = s.ids.get(canonical)
            if found is None or found not in s.subjects[subject]:
                raise self._error(404, 40403, "Schema not found", subject)
            return found

    def get_schema(self, schema_id: int) -> str:
        s = self._state
        with s.lock:
            if not 1 <= schema_id <= len(s.schemas):
                raise self._error(404, 40403, f"Schema {schema_id} not found", None)
            return s.schemas[schema_id - 1]

    def latest(self, subject: str) -> tuple[int, int, str]:
        s = self._state
        with s.lock:
            versions = s.subjects.get(subject)
            if not versions:
                raise self._error(404, 40401, f"Subject {subject!r} not found.", subject)
            schema_id = versions[-1]
            return schema_id, len(versions), s.schemas[schema_id - 1]

    def versions(self, subject: str) -> list[int]:
        with self._state.lock:
            versions = self._state.subjects.get(subject)
            if not versions:
                raise self._error(404, 40401, f"Subject {subject!r} not found.", subject)
            return list(range(1, len(versions) + 1))

    def subjects(self) -> list[str]:
        with self._state.lock:
            return sorted(self._state.subjects)

    def check_compatibility(self, subject: str, schema_str: str) -> bool:
        schema, _ = self._parse(schema_str, subject)
        with self._state.lock:
            return not self._incompatible(subject, schema)

    def set_compatibility(self, level: str, subject: str | None = None) -> None:
        with self._state.lock:
            self._state.levels[subject] = _level(level)

    def get_compatibility(self, subject: str | None = None, default_to_global: bool = False) -> str:
        # a subject without a level of its own gets the global one, either way
        with self._state.lock:
            levels = self._state.levels
            return levels.get(subject) or levels[None]

    def _incompatible(self, subject: str, schema: Any) -> str | None:
        s = self._state
        level = s.levels.get(subject) or s.levels[None]
        versions = s.subjects.get(subject) or []
        if level == "NONE" or not versions:
            return None
        against = versions if level.endswith("_TRANSITIVE") else versions[-1:]
        for schema_id in reversed(against):
            old = json.loads(s.schemas[schema_id - 1])
            if level.startswith(("BACKWARD", "FULL")):
                problem = reader_problem(schema, old)
                if problem:
                    return f"the new schema cannot read data written with id {schema_id}: {problem}"
            if level.startswith(("FORWARD", "FULL")):
                problem = reader_problem(old, schema)
                if problem:
                    return (
                        f"schema id {schema_id} cannot read data written with the new one: "
                        f"{problem}"
                    )
        return None

    def __repr__(self) -> str:
        return f"MockSchemaRegistryClient({self.scope!r})"


def registry_client(registry: Any) -> SchemaRegistry | None:
    """A registry client from what users pass as ``registry=``: None, a client, a URL
    (``http://...``, several comma-separated, or ``mock://scope``) or a dict of Confluent
    configuration keys (see :meth:`SchemaRegistryClient.from_config`).

    >>> registry_client("mock://x")
    MockSchemaRegistryClient('x')
    """
    if registry is None:
        return None
    if isinstance(registry, str):
        if registry.startswith("mock://"):
            return MockSchemaRegistryClient(registry[len("mock://") :])
        return SchemaRegistryClient(registry)
    if isinstance(registry, Mapping):
        url = _config_value(registry, "url")
        if isinstance(url, str) and url.startswith("mock://"):
            return MockSchemaRegistryClient(url[len("mock://") :])
        return SchemaRegistryClient.from_config(registry)
    if all(callable(getattr(registry, m, None)) for m in ("register", "get_schema")):
        return registry  # type: ignore[no-any-return]
    raise TypeError(
        f"registry= must be a URL, a dict of schema.registry.* settings or a registry client "
        f"(with register(), lookup(), get_schema() and latest()), got {registry!r}"
    )


# ------------------------------------------------------------------- Avro schema resolution

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
#: writer type -> reader types it may be read as (Avro's promotions)
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
_NAMED = ("record", "error", "enum", "fixed")


class _Names:
    """The named types of one schema, by full name."""

    def __init__(self, schema: Any) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        self._index(schema, "")

    def _index(self, schema: Any, ns: str) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._index(branch, ns)
        elif isinstance(schema, dict):
            kind = schema.get("type")
            if kind in _NAMED:
                full = _fullname(schema, ns)
                self.types[full] = schema
                inner = full.rpartition(".")[0]
                for field in schema.get("fields", ()) if kind != "enum" else ():
                    self._index(field.get("type"), inner)
            elif kind == "array":
                self._index(schema.get("items"), ns)
            elif kind == "map":
                self._index(schema.get("values"), ns)
            elif isinstance(kind, dict | list):
                self._index(kind, ns)

    def resolve(self, schema: Any, ns: str) -> tuple[Any, str, str]:
        """``(schema, kind, namespace)`` with references and ``{"type": ...}`` wrappers
        followed; kind is a primitive name, record, enum, fixed, array, map or union."""
        while True:
            if isinstance(schema, list):
                return schema, "union", ns
            if isinstance(schema, str):
                if schema in _PRIMITIVES:
                    return schema, schema, ns
                full = schema if "." in schema or not ns else f"{ns}.{schema}"
                found = self.types.get(full) or self.types.get(schema)
                if found is None:
                    raise ValueError(f"unknown type {schema!r}")
                schema = found
                continue
            if isinstance(schema, dict):
                kind = schema.get("type")
                if kind in _NAMED:
                    full = _fullname(schema, ns)
                    return schema, "record" if kind == "error" else kind, full.rpartition(".")[0]
                if kind in ("array", "map"):
                    return schema, kind, ns
                if isinstance(kind, str | list | dict):
                    schema = kind  # {"type": "long", "logicalType": ...} or a wrapper
                    continue
            raise ValueError(f"not an Avro schema: {schema!r}")


def _fullname(schema: dict[str, Any], ns: str) -> str:
    name = str(schema.get("name", ""))
    if "." in name:
        return name
    namespace = schema.get("namespace", ns) or ""
    return f"{namespace}.{name}" if namespace else name


def _short(name: str) -> str:
    return name.rpartition(".")[2]


def reader_problem(reader: Any, writer: Any) -> str | None:
    """Why data written with ``writer`` cannot be read with ``reader`` under Avro's schema
    resolution rules, or None if it can (so ``reader`` is backward compatible with ``writer``).

    >>> old = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    >>> new = {"type": "record", "name": "R", "fields": [
    ...     {"name": "a", "type": "long"}, {"name": "b", "type": "string"}]}
    >>> reader_problem(new, old)
    "R.b: the reader's field 'b' has no default and the writer has no such field"
    """
    return _Resolver(_Names(reader), _Names(writer)).check(reader, "", writer, "", "")


class _Resolver:
    def __init__(self, reader: _Names, writer: _Names) -> None:
        self.reader, self.writer = reader, writer
        self.seen: set[tuple[str, str]] = set()

    def check(self, r: Any, rns: str, w: Any, wns: str, path: str) -> str | None:
        r, rkind, rns = self.reader.resolve(r, rns)
        w, wkind, wns = self.writer.resolve(w, wns)
        where = path or "the schema"
        if wkind == "union":  # every branch the writer may have written must be readable
            for branch in w:
                problem = self.check(r, rns, branch, wns, path)
                if problem:
                    return problem
            return None
        if rkind == "union":
            for branch in r:
                if self.check(branch, rns, w, wns, path) is None:
                    return None
            return f"{where}: the writer's {_describe(w, wkind)} is not in the reader's union"
        if rkind in _PRIMITIVES:
            if wkind == rkind or rkind in _PROMOTIONS.get(wkind, ()):
                return None
            return f"{where}: the writer's {wkind} cannot be read as {rkind}"
        if rkind != wkind:
            return (
                f"{where}: the writer's {_describe(w, wkind)} cannot be read as "
                f"{_describe(r, rkind)}"
            )
        if rkind == "array":
            return self.check(r["items"], rns, w["items"], wns, f"{path}[]")
        if rkind == "map":
            return self.check(r["values"], rns, w["values"], wns, f"{path}{{}}")
        rname, wname = _fullname(r, rns), _fullname(w, wns)
        if _short(rname) != _short(wname) and _short(wname) not in {
            _short(a) for a in r.get("aliases", ())
        }:
            return f"{where}: the writer's {wkind} {wname} is not the reader's {rname}"
        if rkind == "fixed":
            if r.get("size") != w.get("size"):
                return (
                    f"{where}: fixed {rname} has size {w.get('size')}, the reader {r.get('size')}"
                )
            return None
        if rkind == "enum":
            missing = [s for s in w.get("symbols", ()) if s not in r.get("symbols", ())]
            if missing and "default" not in r:
                return f"{where}: enum {rname} of the reader lacks the symbols {missing}"
            return None
        key = (rname, wname)  # a record
        if key in self.seen:
            return None
        self.seen.add(key)
        written = {f["name"]: f for f in w.get("fields", ())}
        for field in r.get("fields", ()):
            name = field["name"]
            here = f"{path}.{name}" if path else f"{_short(rname)}.{name}"
            match = next(
                (written[n] for n in (name, *field.get("aliases", ())) if n in written), None
            )
            if match is None:
                if "default" not in field:
                    return (
                        f"{here}: the reader's field {name!r} has no default and the writer "
                        "has no such field"
                    )
                continue
            problem = self.check(field["type"], rns, match["type"], wns, here)
            if problem:
                return problem
        return None


def _describe(schema: Any, kind: str) -> str:
    if kind in _NAMED:
        return f"{kind} {schema.get('name')}"
    return kind
