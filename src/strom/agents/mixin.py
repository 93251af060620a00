"""What ``strom.App`` gains for Faust users (filled in by the agents module)."""

from __future__ import annotations


class FaustMixin:
    """Faust-style methods of :class:`strom.App`."""
