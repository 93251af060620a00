"""Pick a backend from a broker URL: ``memory://[NAME]``, ``local://PATH``, ``kafka://...``."""

from __future__ import annotations

from collections.abc import Mapping

from strom.backends.api import Backend
from strom.core.errors import BackendError

__all__ = ["SCHEMES", "open_backend"]

#: The URL schemes strom understands, with an example of each.
SCHEMES = {
    "memory": "memory:// or memory://NAME (in-process; same NAME, same log)",
    "local": "local://PATH (embedded durable log in the directory PATH)",
    "kafka": "kafka://host:port[,host:port] (Apache Kafka; needs the 'kafka' extra)",
}


def open_backend(url: str, config: Mapping[str, object] | None = None) -> Backend:
    """Open the backend a broker URL names; ``config`` holds client settings for ``kafka://``
    (``security.protocol``, ``sasl.*``, ... passed through to librdkafka), ignored otherwise.

    >>> open_backend("memory://")
    MemoryBackend('memory://')
    >>> open_backend("redis://localhost")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    strom.core.errors.BackendError: unsupported broker URL 'redis://localhost': use one of ...
    """
    if not isinstance(url, str):
        raise BackendError(f"broker URL must be a str, got {type(url).__name__}: {url!r}")
    scheme, sep, _ = url.partition("://")
    if sep and scheme == "memory":
        from strom.backends.memory import MemoryBackend

        return MemoryBackend(url)
    if sep and scheme == "local":
        from strom.backends.local import LocalBackend

        return LocalBackend(url)
    if sep and scheme == "kafka":
        try:
            from strom.backends.kafka import KafkaBackend
        except ImportError as e:
            if (e.name or "").partition(".")[0] != "confluent_kafka":
                raise
            raise BackendError(
                f"{url.partition('?')[0]!r}: the kafka backend needs the 'kafka' extra "
                f"(pip install 'strom[kafka]'): {e}"
            ) from None
        return KafkaBackend(url, config)
    supported = "; ".join(SCHEMES.values())
    raise BackendError(f"unsupported broker URL {url!r}: use one of {supported}")
