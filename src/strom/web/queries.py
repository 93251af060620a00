"""Interactive queries over HTTP: answer from the local stores, or forward to the owner.

``GET /api/stores/<store>/<key>`` answers one key. The instance asks
``app.query_metadata_for_key`` which member owns the key; if another instance does (its
``application.server`` differs from this one's), the request is forwarded to
``http://<its application.server>/api/stores/<store>/<key>`` and its answer returned; either
way ``served_by`` names the instance that read its store. A forwarded request carries the
:data:`~strom.web.client.FORWARDED_HEADER` header and is never forwarded again.

``GET /api/stores/<store>`` lists a key-value store (``?from=&to=`` for a key range) or a
window store (``?from=<ms>&to=<ms>`` for the windows starting in that time range). The
instance asks every other member for its part (``?local=1`` asks for this instance's only)
and merges them in key order.

Keys in URLs are text; they are parsed to what the store's key serde takes: first the text
as JSON (``42``, ``"42"``, ``[1, 2]``, ``{"id": 7}``), else the text itself as a string, else
its UTF-8 bytes. So for a String-keyed store ``42`` is the string ``"42"`` (the number does
not serialize), for a Long-keyed store the number 42, and for a JSON-keyed store the number
42 (write ``"42"`` for the string). Only a String key that is itself a quoted JSON string
(``"a"`` with the quotes) cannot be named this way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson

from strom.core.errors import StoreError, StromError
from strom.web.client import FORWARDED_HEADER, QueryError, get_json, store_path

log = logging.getLogger("strom.web")

#: Items a listing returns unless ``?limit=`` says otherwise.
DEFAULT_LIMIT = 1000
#: The end of time for window fetches without ``to``.
FOREVER = 2**62

Answer = tuple[int, dict[str, Any]]
_T = TypeVar("_T")


def to_json(obj: Any) -> bytes:
    """JSON of a query answer: models as their fields, windowed keys as ``{key, start, end}``,
    bytes as UTF-8 text (invalid bytes escaped), anything else unknown as its ``str``."""
    return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, bytes | bytearray | memoryview):
        return bytes(obj).decode("utf-8", errors="backslashreplace")
    if hasattr(obj, "window") and hasattr(obj, "key"):
        return {"key": obj.key, "start": obj.window.start, "end": obj.window.end}
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    return str(obj)


def plain_json(obj: Any) -> Any:
    """``obj`` as JSON-decoded data (what the other instances send)."""
    return orjson.loads(to_json(obj))


def key_serde(worker: Any, store: str) -> Any:
    serde = getattr(worker.topology.stores[store].builder, "key_serde", None)
    if serde is None:
        from strom.topology.build import default_serdes

        serde = default_serdes(worker.config)[0]
    return serde


def parse_key(text: str, serde: Any) -> Any:
    """The key ``text`` names, for a store whose keys ``serde`` serializes (see the module doc).

    >>> from strom.serdes import Json, Long, String
    >>> parse_key("42", String()), parse_key("42", Long()), parse_key('"42"', Json())
    ('42', 42, '42')
    >>> parse_key('{"id": 7}', Json()), parse_key("plain words", Json())
    ({'id': 7}, 'plain words')
    """
    candidates: list[Any] = []
    try:
        candidates.append(json.loads(text))
    except ValueError:
        pass
    candidates += [text, text.encode()]
    for key in candidates:
        try:
            serde.serialize("", key)
            return key
        except Exception:
            continue
    return text


def _int(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise _BadRequest(f"?{name}= must be a time in epoch milliseconds, got {value!r}") from None


class _BadRequest(StromError):
    pass


def _served_by(app: Any, worker: Any) -> str:
    return str(app.config.get("application.server") or "") or worker.member_id


def _error(status: int, message: str, **extra: Any) -> Answer:
    return status, {"error": message, **extra}


def _running(app: Any) -> Any:
    worker = app._running
    if worker is None or not worker.started:
        return None
    return worker


def _is_global(worker: Any, store: str) -> bool:
    return store in set(worker.topology.global_store_names())


def _retrying(read: Callable[[], _T]) -> _T:
    """Run a store read, again if the worker thread changed a cache under it (reads are not
    locked against processing: a dict that changed size mid-iteration raises RuntimeError)."""
    for _ in range(4):
        try:
            return read()
        except RuntimeError as e:
            if "changed size during iteration" not in str(e):
                raise
    return read()


# ---- one key ---------------------------------------------------------------------------------
def query_key(
    app: Any, store: str, key_text: str, params: Mapping[str, str], forwarded_by: str | None
) -> Answer:
    """Answer ``GET /api/stores/<store>/<key>`` (forwarding to the owner if need be)."""
    worker = _running(app)
    if worker is None:
        return _error(503, f"application {app.application_id!r} is not running")
    if store not in worker.topology.stores:
        return _error(404, f"no state store named {store!r}", stores=sorted(worker.topology.stores))
    key = parse_key(key_text, key_serde(worker, store))
    me = _served_by(app, worker)
    partition = None
    if not _is_global(worker, store):
        try:
            meta = app.query_metadata_for_key(store, key)
        except StromError as e:
            return _error(503, str(e))
        partition = meta.partition
        if meta.member != worker.member_id and forwarded_by is None:
            host = meta.active_host or _server_of(worker, meta.member)
            if not host:
                return _error(
                    503,
                    f"key {key!r} of {store!r} is on member {meta.member}, whose "
                    "application.server is not known (set application.server on every "
                    "instance, or retry once the group has settled)",
                    partition=partition,
                )
            if host != me:
                return _forward(host, store, key_text, params, me)
        if not _holds(worker, store, meta.partition):
            return _error(
                503,
                f"partition {meta.partition} of store {store!r} is not open on this instance "
                "(it is restoring or moving in a rebalance); retry shortly",
                partition=partition,
                served_by=me,
            )
    try:
        status, body = _retrying(lambda: _read_key(worker.store(store), key, params))
    except _BadRequest as e:
        return _error(400, str(e))
    except StoreError as e:
        return _error(503, str(e), served_by=me)
    body = {"store": store, "key": key, **body, "partition": partition, "served_by": me}
    return status, plain_json(body)


def _server_of(worker: Any, member: str | None) -> str | None:
    """``member``'s application.server, read from ``<application.id>-instances`` (where each
    instance publishes it when it joins), for a member that joined after this instance last
    read it."""
    if member is None:
        return None
    topic = f"{worker.application_id}-instances"
    server = None
    try:
        offset = worker.backend.offsets(topic, 0)[0]
        while batch := worker.backend.fetch(topic, 0, offset, 1000):
            for r in batch:
                if r.key is not None and r.key.decode() == member:
                    server = (r.value or b"").decode() or None
            offset = batch[-1].offset + 1
    except StromError as e:
        log.debug("cannot read %s: %s", topic, e)
    return server


def _holds(worker: Any, store: str, partition: int) -> bool:
    return any(
        tid.partition == partition and store in o.task.topology.stores
        for tid, o in list(worker.tasks.items())
    )


def _read_key(view: Any, key: Any, params: Mapping[str, str]) -> Answer:
    if getattr(view, "is_window_store", False):
        at = _int(params, "time")
        if at is not None:
            value = view.fetch(key, at)
            return (200 if value is not None else 404), {"time": at, "value": value}
        start, end = _int(params, "from") or 0, _int(params, "to")
        end = FOREVER if end is None else end
        windows = [{"start": ws, "value": v} for ws, v in view.fetch(key, start, end)]
        return 200, {"from": start, "to": end, "windows": windows}
    if getattr(view, "is_session_store", False):
        sessions = [
            {"start": w.window.start, "end": w.window.end, "value": v} for w, v in view.fetch(key)
        ]
        return 200, {"sessions": sessions}
    value = view.get(key)
    return (200 if value is not None else 404), {"value": value, "found": value is not None}


def _forward(host: str, store: str, key_text: str, params: Mapping[str, str], me: str) -> Answer:
    url = f"http://{host}"
    try:
        status, body = get_json(url, store_path(store, key_text), params, {FORWARDED_HEADER: me})
    except QueryError as e:
        return _error(502, f"the owner of the key, {host}, did not answer: {e}", owner=host)
    if isinstance(body, dict):
        body.setdefault("served_by", host)
        body["forwarded_by"] = me
        return status, body
    return _error(502, f"{host} answered with {body!r}", owner=host)


# ---- listings ---------------------------------------------------------------------------------
def query_range(
    app: Any, store: str, params: Mapping[str, str], forwarded_by: str | None
) -> Answer:
    """Answer ``GET /api/stores/<store>``: this instance's part, merged with the others'."""
    worker = _running(app)
    if worker is None:
        return _error(503, f"application {app.application_id!r} is not running")
    if store not in worker.topology.stores:
        return _error(404, f"no state store named {store!r}", stores=sorted(worker.topology.stores))
    try:
        limit = int(params.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        return _error(400, f"?limit= must be a number, got {params.get('limit')!r}")
    me = _served_by(app, worker)
    try:
        items = plain_json(_retrying(lambda: _local_items(worker, store, params, limit)))
    except _BadRequest as e:
        return _error(400, str(e))
    except StoreError:
        items = []  # no local task holds it right now: the others may
    served, unreachable = [me], []
    local_only = forwarded_by is not None or params.get("local") in ("1", "true")
    if not local_only and not _is_global(worker, store):
        for member, host in _others(worker, me):
            if not host:
                unreachable.append({"member": member, "error": "application.server not known"})
                continue
            try:
                status, body = get_json(
                    f"http://{host}",
                    store_path(store),
                    {**params, "local": "1"},
                    {FORWARDED_HEADER: me},
                )
            except QueryError as e:
                unreachable.append({"member": member, "server": host, "error": str(e)})
                continue
            if status != 200 or not isinstance(body, dict):
                unreachable.append({"member": member, "server": host, "error": body})
                continue
            items += body.get("items", [])
            served.append(host)
        try:
            items.sort(key=lambda item: _sort_key(item["key"]))
        except TypeError:
            pass
    truncated = len(items) > limit
    body = {
        "store": store,
        "items": items[:limit],
        "count": min(len(items), limit),
        "truncated": truncated,
        "served_by": me if local_only else served,
    }
    if unreachable:
        body["unreachable"] = unreachable
    return 200, body


def _sort_key(key: Any) -> Any:
    if isinstance(key, dict) and "start" in key and "key" in key:  # windowed
        return (key["key"], key["start"])
    return key


def _others(worker: Any, me: str) -> list[tuple[str, str | None]]:
    """The other members and their application.server (one request per server)."""
    servers = dict(worker.servers)
    seen = {me}
    out = []
    for member in list(worker.members):
        if member == worker.member_id:
            continue
        host = servers.get(member) or _server_of(worker, member)
        if host in seen:
            continue
        if host:
            seen.add(host)
        out.append((member, host))
    return out


def _local_items(worker: Any, store: str, params: Mapping[str, str], limit: int) -> list[Any]:
    view = worker.store(store)
    out: list[dict[str, Any]] = []
    if getattr(view, "is_session_store", False):
        raise _BadRequest(
            f"{store!r} is a session store: query it by key (/api/stores/{store}/KEY)"
        )
    if getattr(view, "is_window_store", False):
        start, end = _int(params, "from"), _int(params, "to")
        if start is None and end is None:
            it = view.all()
        else:
            it = view.fetch_all(start or 0, FOREVER if end is None else end)
        for windowed, value in it:
            out.append(
                {
                    "key": windowed.key,
                    "start": windowed.window.start,
                    "end": windowed.window.end,
                    "value": value,
                }
            )
            if len(out) > limit:
                break
        return out
    serde = key_serde(worker, store)
    low = params.get("from")
    high = params.get("to")
    lo = parse_key(low, serde) if low not in (None, "") else None
    hi = parse_key(high, serde) if high not in (None, "") else None
    it = view.range(lo, hi) if lo is not None and hi is not None else view.all()
    for key, value in it:
        if lo is not None and hi is None and key < lo:
            continue
        if hi is not None and lo is None and key > hi:
            break
        out.append({"key": key, "value": value})
        if len(out) > limit:
            break
    return out
