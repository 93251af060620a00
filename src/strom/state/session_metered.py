"""The typed top of session store stacks (Kafka's ``MeteredSessionStore``)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from strom.serdes.base import Serde
from strom.state.segments import Entries
from strom.state.session import SessionStore
from strom.state.window_keys import session_store_key
from strom.state.window_metered import MeteredSegmentedStore
from strom.windows.window import MAX_TIMESTAMP, Window, Windowed

K = TypeVar("K")
V = TypeVar("V")

_SESSION = struct.Struct(">qq")
_window = Window._of


class MeteredSessionStore(MeteredSegmentedStore, SessionStore[K, V], Generic[K, V]):
    """A typed session store over a stack of session bytes stores.

    >>> from strom import serdes
    >>> from strom.state.session import InMemorySessionStore
    >>> store = MeteredSessionStore(InMemorySessionStore("s", 60_000), serdes.String(),
    ...                             serdes.Long())
    >>> store.retention_period, store.is_session_store
    (60000, True)
    """

    def __init__(
        self, inner: Any, key_serde: Serde[K] | None, value_serde: Serde[V] | None
    ) -> None:
        super().__init__(inner, key_serde, value_serde)

    def _windowed_key(self, c: bytes) -> Windowed[K]:
        end, start = _SESSION.unpack_from(c, len(c) - 16)
        return Windowed(self._kd(self._topic, c[:-16]), _window(start, end))

    def _sessions(
        self, it: Entries, latest_end: int | None = None
    ) -> Iterator[tuple[Windowed[K], V]]:
        kd, vd, topic, unpack = self._kd, self._vd, self._topic, _SESSION.unpack_from
        try:
            for c, v in it:
                end, start = unpack(c, len(c) - 16)
                if latest_end is not None and end > latest_end:
                    continue
                yield Windowed(kd(topic, c[:-16]), _window(start, end)), vd(topic, v)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def _binary(self, session: Windowed[K]) -> bytes:
        if not isinstance(session, Windowed):
            raise TypeError(
                f"a session store takes Windowed(key, Window(start, end)) keys, "
                f"got {type(session).__name__}: {session!r}"
            )
        key = session.key
        if key is None:
            raise self._null_key()
        window = session.window
        return session_store_key(self._ks(self._topic, key), window.start, window.end)

    # -- SessionStore ------------------------------------------------------------------------
    def put(self, session: Windowed[K], value: V | None) -> None:
        self._puts += 1
        self._put(self._binary(session), self._vs(self._topic, value))

    def remove(self, session: Windowed[K]) -> None:
        self._removes += 1
        self._put(self._binary(session), None)

    def fetch_session(self, key: K, session_start_time: int, session_end_time: int) -> V | None:
        self._fetches += 1
        if key is None:
            raise self._null_key()
        topic = self._topic
        raw = self._get(
            session_store_key(self._ks(topic, key), session_start_time, session_end_time)
        )
        return None if raw is None else self._vd(topic, raw)

    def _find(
        self, key: K, earliest_end: int, latest_start: int, backward: bool
    ) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        if key is None:
            raise self._null_key()
        kb = self._ks(self._topic, key)
        return self._sessions(self._fetch(kb, kb, earliest_end, latest_start, backward))

    def find_sessions(
        self, key: K, earliest_session_end_time: int, latest_session_start_time: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        return self._find(key, earliest_session_end_time, latest_session_start_time, False)

    def backward_find_sessions(
        self, key: K, earliest_session_end_time: int, latest_session_start_time: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        return self._find(key, earliest_session_end_time, latest_session_start_time, True)

    def find_sessions_range(
        self,
        key_from: K | None,
        key_to: K | None,
        earliest_session_end_time: int,
        latest_session_start_time: int,
    ) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        kf, kt = self._key(key_from), self._key(key_to)
        it = self._fetch(kf, kt, earliest_session_end_time, latest_session_start_time, False)
        return self._sessions(it)

    def backward_find_sessions_range(
        self,
        key_from: K | None,
        key_to: K | None,
        earliest_session_end_time: int,
        latest_session_start_time: int,
    ) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        kf, kt = self._key(key_from), self._key(key_to)
        it = self._fetch(kf, kt, earliest_session_end_time, latest_session_start_time, True)
        return self._sessions(it)

    def find_sessions_ending(
        self, earliest_session_end_time: int, latest_session_end_time: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        it = self._fetch(None, None, earliest_session_end_time, MAX_TIMESTAMP, False)
        return self._sessions(it, latest_session_end_time)

    def fetch(self, key: K) -> Iterator[tuple[Windowed[K], V]]:
        return self._find(key, 0, MAX_TIMESTAMP, False)

    def backward_fetch(self, key: K) -> Iterator[tuple[Windowed[K], V]]:
        return self._find(key, 0, MAX_TIMESTAMP, True)

    def fetch_range(self, key_from: K | None, key_to: K | None) -> Iterator[tuple[Windowed[K], V]]:
        return self.find_sessions_range(key_from, key_to, 0, MAX_TIMESTAMP)

    def backward_fetch_range(
        self, key_from: K | None, key_to: K | None
    ) -> Iterator[tuple[Windowed[K], V]]:
        return self.backward_find_sessions_range(key_from, key_to, 0, MAX_TIMESTAMP)
