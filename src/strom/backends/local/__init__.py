"""``local://PATH``: the embedded, durable log on SQLite that strom uses by default."""

from strom.backends.local.backend import LocalBackend, parse_local_url

__all__ = ["LocalBackend", "parse_local_url"]
