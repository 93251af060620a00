"""HTTP GET of the store query endpoint, shared by request forwarding and ``strom query``."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from strom.core.errors import StromError

#: Set on a request one instance forwards to another, so that it is never forwarded again.
FORWARDED_HEADER = "X-Strom-Forwarded-By"
#: Seconds to wait for another instance.
TIMEOUT_S = 10.0


class QueryError(StromError):
    """The instance could not be reached, or did not answer with JSON."""


def store_path(store: str, key: str | None = None) -> str:
    """``/api/stores/<store>[/<key>]``, each part percent-encoded (``/`` included).

    >>> store_path("counts", "a/b c")
    '/api/stores/counts/a%2Fb%20c'
    """
    path = "/api/stores/" + urllib.parse.quote(store, safe="")
    if key is not None:
        path += "/" + urllib.parse.quote(key, safe="")
    return path


def get_json(
    base_url: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT_S,
) -> tuple[int, Any]:
    """GET ``base_url + path?params``; returns ``(HTTP status, decoded JSON body)``.

    Error statuses (404, 503, ...) return normally with their JSON body; an unreachable
    server or a body that is not JSON raises :class:`QueryError`.
    """
    query = {k: str(v) for k, v in (params or {}).items() if v is not None}
    url = base_url.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    request = urllib.request.Request(url, headers={"Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        raise QueryError(f"cannot reach {base_url}: {getattr(e, 'reason', e)}") from e
    try:
        return status, json.loads(body)
    except ValueError as e:
        raise QueryError(f"{url} answered {status} without JSON: {body[:200]!r}") from e
