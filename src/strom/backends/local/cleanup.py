"""Retention and compaction of one partition of a ``local://`` log (run by ``maintain``).

Each runs inside the caller's write transaction, one partition at a time, so other processes
wait at most for one partition's cleanup.
"""

from __future__ import annotations

import sqlite3


def expire(conn: sqlite3.Connection, tid: int, part: int, cutoff_ms: int) -> int:
    """Delete the longest prefix of records older than ``cutoff_ms``; return how many.

    Like Kafka deleting whole old segments, deletion stops at the first record that is new
    enough, and the log start offset moves up to it (or to the end when nothing is left).
    """
    row = conn.execute(
        "SELECT off FROM records WHERE tid=? AND part=? AND ts>=? ORDER BY off LIMIT 1",
        (tid, part, cutoff_ms),
    ).fetchone()
    if row is None:
        (cut,) = conn.execute(
            "SELECT next_offset FROM partitions WHERE tid=? AND part=?", (tid, part)
        ).fetchone()
    else:
        cut = row[0]
    deleted = conn.execute(
        "DELETE FROM records WHERE tid=? AND part=? AND off<?", (tid, part, cut)
    ).rowcount
    conn.execute(
        "UPDATE partitions SET log_start=max(log_start, ?) WHERE tid=? AND part=?",
        (cut, tid, part),
    )
    return deleted


def compact(conn: sqlite3.Connection, tid: int, part: int, tombstone_cutoff_ms: int) -> int:
    """Keep only the latest record per key; drop tombstones older than the cutoff.

    Offsets keep their gaps and the log start offset does not move (as in Kafka).
    """
    deleted = conn.execute(
        "DELETE FROM records WHERE tid=?1 AND part=?2 AND off NOT IN "
        "(SELECT max(off) FROM records WHERE tid=?1 AND part=?2 GROUP BY k)",
        (tid, part),
    ).rowcount
    deleted += conn.execute(
        "DELETE FROM records WHERE tid=? AND part=? AND v IS NULL AND ts<?",
        (tid, part, tombstone_cutoff_ms),
    ).rowcount
    return deleted


def delete_before(conn: sqlite3.Connection, tid: int, part: int, offset: int) -> int:
    """Delete the records below ``offset`` and move the log start up to it."""
    deleted = conn.execute(
        "DELETE FROM records WHERE tid=? AND part=? AND off<?", (tid, part, offset)
    ).rowcount
    conn.execute(
        "UPDATE partitions SET log_start=max(log_start, min(?, next_offset)) "
        "WHERE tid=? AND part=?",
        (offset, tid, part),
    )
    return deleted
