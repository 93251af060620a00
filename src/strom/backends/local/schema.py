"""The SQLite schema of a ``local://`` log, its connection settings and the header encoding.

One database file, ``PATH/log.db``, in WAL mode. Records are clustered by
``(topic id, partition, offset)`` (a WITHOUT ROWID table), so a fetch is one range scan.
Topic ids are never reused (AUTOINCREMENT), so a topic deleted and created again by another
process can never be confused with the old one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from struct import Struct

from strom.core.errors import BackendError
from strom.core.types import EMPTY_HEADERS, Headers

SCHEMA_VERSION = 1

#: How long a writer waits for another process's write transaction (SQLite busy timeout).
BUSY_TIMEOUT_S = 30.0

#: ``synchronous`` levels a URL may ask for (``local://PATH?synchronous=normal``).
SYNC_LEVELS = ("normal", "full", "extra")

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    partitions INTEGER NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions (
    tid INTEGER NOT NULL,
    part INTEGER NOT NULL,
    log_start INTEGER NOT NULL DEFAULT 0,
    next_offset INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tid, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    tid INTEGER NOT NULL,
    part INTEGER NOT NULL,
    off INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    k BLOB,
    v BLOB,
    h BLOB,
    PRIMARY KEY (tid, part, off)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    part INTEGER NOT NULL,
    off INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS groups (
    grp TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members (
    grp TEXT NOT NULL,
    member TEXT NOT NULL,
    last_heartbeat_ms INTEGER NOT NULL,
    session_timeout_ms INTEGER NOT NULL,
    acked_generation INTEGER NOT NULL DEFAULT -1,
    joined_generation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grp, member)
) WITHOUT ROWID;
"""


def connect(db_path: Path, synchronous: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit ``BEGIN IMMEDIATE``)."""
    conn = sqlite3.connect(
        db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
    conn.execute("PRAGMA cache_size=-16384")  # 16 MiB page cache per connection
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def initialize(conn: sqlite3.Connection, db_path: Path) -> None:
    """Switch to WAL, create the tables if missing, and check the schema version."""
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise BackendError(f"local log {db_path}: cannot enable WAL mode (got {mode!r})")
    conn.execute("PRAGMA journal_size_limit=67108864")  # truncate a big WAL after checkpoints
    conn.execute("BEGIN IMMEDIATE")
    try:
        for stmt in DDL.split(";"):
            if stmt.strip():
                conn.execute(stmt)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        (version,) = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if int(version) != SCHEMA_VERSION:
        raise BackendError(
            f"local log {db_path} has schema version {version}; this strom reads version "
            f"{SCHEMA_VERSION}"
        )


# ---- headers: (u16 name length, name, i32 value length or -1 for None, value)* --------------
_NAME_LEN = Struct(">H")
_VALUE_LEN = Struct(">i")
_NULL_VALUE = _VALUE_LEN.pack(-1)


def encode_headers(headers: Headers) -> bytes | None:
    """Headers as one compact blob (None for no headers, the common case).

    >>> decode_headers(encode_headers((("trace", b"1"), ("flag", None))))
    (('trace', b'1'), ('flag', None))
    """
    if not headers:
        return None
    out = bytearray()
    for name, value in headers:
        raw = name.encode()
        out += _NAME_LEN.pack(len(raw))
        out += raw
        if value is None:
            out += _NULL_VALUE
        else:
            out += _VALUE_LEN.pack(len(value))
            out += value
    return bytes(out)


def decode_headers(blob: bytes | None) -> Headers:
    if not blob:
        return EMPTY_HEADERS
    out = []
    i, end = 0, len(blob)
    name_len, value_len = _NAME_LEN.unpack_from, _VALUE_LEN.unpack_from
    while i < end:
        (n,) = name_len(blob, i)
        i += 2
        name = blob[i : i + n].decode()
        i += n
        (m,) = value_len(blob, i)
        i += 4
        if m < 0:
            out.append((name, None))
        else:
            out.append((name, blob[i : i + m]))
            i += m
    return tuple(out)
