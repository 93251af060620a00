"""``LocalBackend``: the embedded, durable ``local://PATH`` log on SQLite (WAL mode)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from strom.backends.api import (
    Backend,
    Membership,
    ProducerRecord,
    TopicInfo,
    TopicPartition,
    Transaction,
)
from strom.backends.common import (
    BufferedTransaction,
    bad_record,
    cleanup_rules,
    keyless_compacted,
    now_ms,
    unknown_partition,
    unknown_topic,
    validate_topic,
)
from strom.backends.local import cleanup, groups
from strom.backends.local.schema import (
    BUSY_TIMEOUT_S,
    SYNC_LEVELS,
    connect,
    decode_headers,
    encode_headers,
    initialize,
)
from strom.core.errors import BackendError, TopicExistsError
from strom.core.partitioner import DefaultPartitioner, positive_hash
from strom.core.records import ConsumerRecord
from strom.core.types import EMPTY_HEADERS, normalize_headers

__all__ = ["LocalBackend"]


class _TopicState(NamedTuple):
    """A topic as one produce sees it: id, partition count, compacted, next offsets."""

    tid: int
    partitions: int
    compacted: bool
    next: list[int]  # next offset per partition, advanced while appending
    start: list[int]  # next offsets when the produce began


T = TypeVar("T")

_FETCH = (
    "SELECT off, ts, k, v, h FROM records "
    "WHERE tid=(SELECT id FROM topics WHERE name=?) AND part=? AND off>=? ORDER BY off LIMIT ?"
)
_INSERT = "INSERT INTO records(tid, part, off, ts, k, v, h) VALUES (?, ?, ?, ?, ?, ?, ?)"


def parse_local_url(url: str) -> tuple[Path, str]:
    """``local://PATH[?synchronous=normal|full|extra]`` -> (directory, synchronous level)."""
    if not url.startswith("local://"):
        raise BackendError(f"LocalBackend needs a local://PATH URL, got {url!r}")
    rest, _, query = url[len("local://") :].partition("?")
    if not rest:
        raise BackendError(f"{url!r} names no directory: use local://PATH, e.g. local://./data")
    sync = "full"
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        if name != "synchronous" or value.lower() not in SYNC_LEVELS:
            raise BackendError(
                f"{url!r}: unknown option {item!r}; the only option is "
                f"synchronous={'|'.join(SYNC_LEVELS)}"
            )
        sync = value.lower()
    return Path(rest).expanduser(), sync


class LocalBackend(Backend):
    """A durable log in ``PATH/log.db`` that several processes on one machine may share.

    Every produce, offset commit and transaction is one SQLite transaction (``BEGIN
    IMMEDIATE``), so a process killed at any instant leaves either all of it or none of it.
    ``synchronous=FULL`` (the default) also keeps acknowledged writes through a power loss;
    ``local://PATH?synchronous=normal`` trades that for speed (still safe against crashes).

    >>> import tempfile
    >>> from strom.backends import ProducerRecord
    >>> with LocalBackend("local://" + tempfile.mkdtemp()) as log:
    ...     log.create_topic("words", partitions=2)
    ...     log.produce([ProducerRecord("words", b"kafka", b"streams", 1000)])
    ...     log.fetch("words", 0, 0)[0].value
    [(0, 0)]
    b'streams'
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.path, self.synchronous = parse_local_url(url)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BackendError(f"{url!r}: cannot create directory {self.path}: {e}") from e
        self.db_path = self.path / "log.db"
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._partitioner = DefaultPartitioner()
        self._compacted: dict[int, bool] = {}  # topic id -> compacted (ids are never reused)
        self._closed = False
        try:
            initialize(self._conn(), self.db_path)
        except sqlite3.Error as e:
            self.close()
            raise BackendError(f"cannot open local log {self.db_path}: {e}") from e

    # ---- connections and transactions ----------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise BackendError(f"backend {self.url} is closed")
            try:
                conn = connect(self.db_path, self.synchronous)
            except sqlite3.Error as e:
                raise BackendError(f"cannot open local log {self.db_path}: {e}") from e
            with self._conns_lock:
                self._conns.append(conn)
            self._local.conn = conn
        elif self._closed:
            raise BackendError(f"backend {self.url} is closed")
        return conn

    def _write(self, fn: Callable[[sqlite3.Connection], T], durable: bool = True) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction, retrying while the log is busy."""
        conn = self._conn()
        deadline = time.monotonic() + 2 * BUSY_TIMEOUT_S
        relax = not durable and self.synchronous != "normal"
        while True:
            try:
                if relax:  # ephemeral data (heartbeats): no fsync needed
                    conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(conn)
                    conn.execute("COMMIT")
                    return result
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as e:
                msg = str(e).lower()
                if ("locked" in msg or "busy" in msg) and time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                raise BackendError(f"local log {self.db_path}: {e}") from e
            except sqlite3.Error as e:
                raise BackendError(f"local log {self.db_path}: {e}") from e
            finally:
                if relax:
                    conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return self._conn().execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise BackendError(f"local log {self.db_path}: {e}") from e

    def _partition_count(self, topic: str, partition: int) -> int:
        """The topic's partition count; raises for an unknown topic or partition."""
        row = self._read("SELECT partitions FROM topics WHERE name=?", (topic,))
        if not row:
            raise unknown_topic(topic)
        n = row[0][0]
        if partition.__class__ is not int or not 0 <= partition < n:
            raise unknown_partition(topic, partition, n)
        return n

    # ---- admin ---------------------------------------------------------------------------
    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        config: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> None:
        cfg = validate_topic(name, partitions, config)

        def create(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM topics WHERE name=?", (name,)).fetchone():
                if exist_ok:
                    return
                raise TopicExistsError(f"topic {name!r} already exists in {self.db_path}")
            cur = conn.execute(
                "INSERT INTO topics(name, partitions, config) VALUES (?, ?, ?)",
                (name, partitions, json.dumps(cfg, sort_keys=True)),
            )
            conn.executemany(
                "INSERT INTO partitions(tid, part) VALUES (?, ?)",
                [(cur.lastrowid, p) for p in range(partitions)],
            )

        self._write(create)

    def delete_topic(self, name: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT id FROM topics WHERE name=?", (name,)).fetchone()
            if row is None:
                raise unknown_topic(name)
            for table in ("records", "partitions"):
                conn.execute(f"DELETE FROM {table} WHERE tid=?", row)
            conn.execute("DELETE FROM topics WHERE id=?", row)
            conn.execute("DELETE FROM group_offsets WHERE topic=?", (name,))

        self._write(delete)

    def list_topics(self) -> dict[str, TopicInfo]:
        rows = self._read("SELECT name, partitions, config FROM topics ORDER BY name", ())
        return {n: TopicInfo(n, p, json.loads(c)) for n, p, c in rows}

    # ---- produce and fetch -----------------------------------------------------------------
    def produce(self, records: Iterable[ProducerRecord]) -> list[tuple[int, int]]:
        batch = records if isinstance(records, list) else list(records)
        if not batch:
            self._conn()  # still fails when closed
            return []
        return self._write(lambda conn: self._append(conn, batch))

    def _append(
        self, conn: sqlite3.Connection, records: list[ProducerRecord]
    ) -> list[tuple[int, int]]:
        """Validate, partition and insert ``records`` inside the caller's write transaction.

        The hot path of every produce: one pass, no per-record queries.
        """
        topics: dict[str, _TopicState] = {}
        rows: list[tuple[Any, ...]] = []
        out: list[tuple[int, int]] = []
        add_row, add_out = rows.append, out.append
        hash_key, round_robin = positive_hash, self._partitioner.partition
        last = None
        tid = n = 0
        compacted = False
        nxt: list[int] = []
        for topic, key, value, ts, headers, p in records:
            if topic != last:
                state = topics.get(topic)
                if state is None:
                    state = topics[topic] = self._topic(conn, topic)
                tid, n, compacted, nxt, _ = state
                last = topic
            if key is None:
                if compacted:
                    raise keyless_compacted(topic)
            elif key.__class__ is not bytes:
                raise bad_record(topic, "key", key)
            if value is not None and value.__class__ is not bytes:
                raise bad_record(topic, "value", value)
            if p is None:
                p = hash_key(key) % n if key is not None else round_robin(topic, None, n)
            elif p.__class__ is not int or not 0 <= p < n:
                raise unknown_partition(topic, p, n)
            off = nxt[p]
            nxt[p] = off + 1
            if headers:
                if headers.__class__ is not tuple:
                    headers = normalize_headers(headers)
                blob = encode_headers(headers)
            else:
                blob = None
            if ts is None:
                ts = now_ms()
            add_row((tid, p, off, ts, key, value, blob))
            add_out((p, off))
        conn.executemany(_INSERT, rows)
        conn.executemany(
            "UPDATE partitions SET next_offset=? WHERE tid=? AND part=?",
            [
                (after, state.tid, part)
                for state in topics.values()
                for part, (before, after) in enumerate(zip(state.start, state.next))
                if after != before
            ],
        )
        return out

    def _topic(self, conn: sqlite3.Connection, topic: str) -> _TopicState:
        found = conn.execute(
            "SELECT id, partitions, config FROM topics WHERE name=?", (topic,)
        ).fetchone()
        if found is None:
            raise unknown_topic(topic)
        tid, n, config = found
        compacted = self._compacted.get(tid)
        if compacted is None:
            compacted = self._compacted[tid] = cleanup_rules(topic, json.loads(config)).compact
        start = [
            off
            for (off,) in conn.execute(
                "SELECT next_offset FROM partitions WHERE tid=? ORDER BY part", (tid,)
            )
        ]
        return _TopicState(tid, n, compacted, list(start), start)

    def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = 1000,
        *,
        wait: bool = True,  # records are always at hand here
    ) -> list[ConsumerRecord]:
        if max_records <= 0:
            self._partition_count(topic, partition)
            return []
        rows = self._read(_FETCH, (topic, partition, offset, max_records))
        if not rows:
            self._partition_count(topic, partition)  # unknown topic or partition?
            return []
        cr, empty, dec = ConsumerRecord, EMPTY_HEADERS, decode_headers
        return [
            cr(topic, partition, o, t, k, v, empty if h is None else dec(h))
            for o, t, k, v, h in rows
        ]

    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        rows = self._read(
            "SELECT log_start, next_offset FROM partitions "
            "WHERE tid=(SELECT id FROM topics WHERE name=?) AND part=?",
            (topic, partition),
        )
        if not rows:
            self._partition_count(topic, partition)
        return rows[0][0], rows[0][1]

    # ---- consumer groups -------------------------------------------------------------------
    def committed(
        self, group: str, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        try:
            return groups.committed(self._conn(), group, partitions)
        except sqlite3.Error as e:
            raise BackendError(f"local log {self.db_path}: {e}") from e

    def commit_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        offsets = dict(offsets)
        self._write(lambda conn: groups.commit_offsets(conn, group, offsets))

    def delete_group(self, group: str) -> None:
        self._write(lambda conn: groups.delete_group(conn, group))

    def heartbeat(
        self, group: str, member: str, session_timeout_ms: int, acked_generation: int = -1
    ) -> Membership:
        if session_timeout_ms <= 0:
            raise BackendError(f"group {group!r}: session_timeout_ms must be > 0")
        return self._write(
            lambda conn: groups.heartbeat(
                conn, group, member, session_timeout_ms, now_ms(), acked_generation
            ),
            durable=False,
        )

    def leave(self, group: str, member: str) -> None:
        self._write(lambda conn: groups.leave(conn, group, member), durable=False)

    # ---- transactions ----------------------------------------------------------------------
    def transaction(self) -> Transaction:
        self._conn()  # fails when closed
        return BufferedTransaction(self._commit_transaction)

    def _commit_transaction(
        self,
        records: list[ProducerRecord],
        offsets: list[tuple[str, dict[TopicPartition, int]]],
        fence: tuple[str, str, int] | None = None,
    ) -> None:
        def apply(conn: sqlite3.Connection) -> None:
            if fence is not None:
                groups.check_fence(conn, *fence)
            if records:
                self._append(conn, records)
            for group, offs in offsets:
                groups.commit_offsets(conn, group, offs)

        self._write(apply)

    def delete_records(self, topic: str, partition: int, before_offset: int) -> None:
        def apply(conn: sqlite3.Connection) -> None:
            state = self._topic(conn, topic)
            if not 0 <= partition < state.partitions:
                raise unknown_partition(topic, partition, state.partitions)
            cleanup.delete_before(conn, state.tid, partition, before_offset)

        self._write(apply)

    # ---- lifecycle ---------------------------------------------------------------------------
    def maintain(self, now_ms: int) -> None:
        """Apply ``retention.ms`` and compaction, one partition per write transaction."""
        topics = self._read("SELECT id, name, partitions, config FROM topics", ())
        for tid, name, n, config in topics:
            rules = cleanup_rules(name, json.loads(config))
            for part in range(n):
                if rules.retention_ms is not None:
                    cutoff = now_ms - rules.retention_ms
                    self._write(lambda conn, t=tid, p=part, c=cutoff: cleanup.expire(conn, t, p, c))
                if rules.compact:
                    cutoff = now_ms - rules.delete_retention_ms
                    self._write(
                        lambda conn, t=tid, p=part, c=cutoff: cleanup.compact(conn, t, p, c)
                    )

    def close(self) -> None:
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def __repr__(self) -> str:
        return f"LocalBackend({self.url!r})"
