"""``Change``: what a KTable node forwards — the new value and, when asked for, the old one."""

from __future__ import annotations

from typing import Any, NamedTuple


class Change(NamedTuple):
    """A table update for one key; ``None`` as ``new`` is a delete (tombstone)."""

    new: Any
    old: Any = None
