"""Consumer groups of a ``local://`` log: committed offsets, live members and generations.

Members live in different processes, so liveness is judged by wall-clock heartbeat times stored
in the database. Every function here runs inside the caller's write transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from strom.backends.api import Membership, TopicPartition
from strom.backends.common import check_offset, fenced, unknown_partition, unknown_topic


def check_offsets(conn: sqlite3.Connection, offsets: Mapping[TopicPartition, int]) -> None:
    """Every offset names an existing topic partition and is an int >= 0."""
    sizes: dict[str, int | None] = {}
    for (topic, partition), off in offsets.items():
        if topic not in sizes:
            row = conn.execute("SELECT partitions FROM topics WHERE name=?", (topic,)).fetchone()
            sizes[topic] = row[0] if row else None
        n = sizes[topic]
        if n is None:
            raise unknown_topic(topic)
        if partition.__class__ is not int or not 0 <= partition < n:
            raise unknown_partition(topic, partition, n)
        check_offset(topic, partition, off)


def commit_offsets(
    conn: sqlite3.Connection, group: str, offsets: Mapping[TopicPartition, int]
) -> None:
    check_offsets(conn, offsets)
    conn.executemany(
        "INSERT INTO group_offsets(grp, topic, part, off) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(grp, topic, part) DO UPDATE SET off=excluded.off",
        [(group, t, p, o) for (t, p), o in offsets.items()],
    )


def committed(
    conn: sqlite3.Connection, group: str, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    wanted = {(t, p) for t, p in partitions}
    if not wanted:
        return {}
    rows = conn.execute(
        "SELECT topic, part, off FROM group_offsets WHERE grp=?", (group,)
    ).fetchall()
    return {(t, p): o for t, p, o in rows if (t, p) in wanted}


def _generation(conn: sqlite3.Connection, group: str) -> int:
    row = conn.execute("SELECT generation FROM groups WHERE grp=?", (group,)).fetchone()
    return row[0] if row else 0


def _bump(conn: sqlite3.Connection, group: str) -> int:
    gen = _generation(conn, group) + 1
    conn.execute(
        "INSERT INTO groups(grp, generation) VALUES (?, ?) "
        "ON CONFLICT(grp) DO UPDATE SET generation=excluded.generation",
        (group, gen),
    )
    return gen


def heartbeat(
    conn: sqlite3.Connection,
    group: str,
    member: str,
    session_timeout_ms: int,
    now_ms: int,
    acked_generation: int = -1,
) -> Membership:
    """Drop members silent past their session timeout, then join or refresh ``member``."""
    rows = conn.execute(
        "SELECT member, last_heartbeat_ms, session_timeout_ms, acked_generation "
        "FROM group_members WHERE grp=?",
        (group,),
    ).fetchall()
    expired = [m for m, seen, timeout, _ in rows if now_ms - seen > timeout]
    acked = {m: a for m, _, _, a in rows if m not in expired}
    live = set(acked)
    if expired:
        conn.executemany(
            "DELETE FROM group_members WHERE grp=? AND member=?", [(group, m) for m in expired]
        )
    changed = bool(expired) or member not in live
    conn.execute(
        "INSERT INTO group_members(grp, member, last_heartbeat_ms, session_timeout_ms, "
        "acked_generation) VALUES (?, ?, ?, ?, ?) ON CONFLICT(grp, member) DO UPDATE SET "
        "last_heartbeat_ms=excluded.last_heartbeat_ms, "
        "session_timeout_ms=excluded.session_timeout_ms, "
        "acked_generation=excluded.acked_generation",
        (group, member, now_ms, session_timeout_ms, acked_generation),
    )
    live.add(member)
    acked[member] = acked_generation
    gen = _bump(conn, group) if changed else _generation(conn, group)
    if member not in {m for m, _, _, _ in rows} - set(expired):  # a (re)join
        conn.execute(
            "UPDATE group_members SET joined_generation=? WHERE grp=? AND member=?",
            (gen, group, member),
        )
    return Membership(gen, tuple(sorted(live)), all(a == gen for a in acked.values()))


def check_fence(conn: sqlite3.Connection, group: str, member: str, generation: int) -> None:
    """Raise FencedError unless ``member`` is live and joined at or before ``generation``."""
    row = conn.execute(
        "SELECT joined_generation FROM group_members WHERE grp=? AND member=?", (group, member)
    ).fetchone()
    joined = None if row is None else row[0]
    if joined is None or generation < joined:
        raise fenced(group, member, generation, joined)


def leave(conn: sqlite3.Connection, group: str, member: str) -> None:
    cur = conn.execute("DELETE FROM group_members WHERE grp=? AND member=?", (group, member))
    if cur.rowcount:
        _bump(conn, group)


def delete_group(conn: sqlite3.Connection, group: str) -> None:
    """Forget offsets and members; the generation keeps counting (no ABA for zombies)."""
    conn.execute("DELETE FROM group_offsets WHERE grp=?", (group,))
    if conn.execute("DELETE FROM group_members WHERE grp=?", (group,)).rowcount:
        _bump(conn, group)
