"""Which member runs which partition's tasks, and which members keep standby copies of them.

Every member computes the same answer from the same sorted member list, with no coordinator:
the active owner of partition ``p`` is ``members[p % n]`` (balanced: member counts differ by at
most one partition). Standby ``k`` of ``p`` (``k = 1 .. num.standby.replicas``) is the member
that would own ``p`` if the owner and standbys ``1 .. k-1`` left: the same rule applied to the
members that remain. So when an owner fails, its partitions go to the members that already hold
warm copies of their state, and only the changelog tail since the last update is restored
(Kafka Streams places standbys on other clients than the active for the same reason).
"""

from __future__ import annotations

from collections.abc import Sequence


def owners(members: Sequence[str], partition: int, replicas: int = 0) -> list[str]:
    """The active owner of ``partition`` first, then its standbys (at most ``len - 1``).

    >>> owners(["a", "b", "c"], 4, replicas=1)
    ['b', 'a']
    """
    remaining = list(members)
    out: list[str] = []
    for _ in range(min(replicas + 1, len(remaining))):
        out.append(remaining.pop(partition % len(remaining)))
    return out


def assign(
    members: Sequence[str], member: str, partitions: int, replicas: int = 0
) -> tuple[set[int], set[int]]:
    """``(active, standby)`` partition numbers of ``member`` among sorted ``members``.

    >>> assign(["a", "b"], "a", 3, replicas=1)
    ({0, 2}, {1})
    """
    active: set[int] = set()
    standby: set[int] = set()
    for p in range(partitions):
        chain = owners(members, p, replicas)
        if chain and chain[0] == member:
            active.add(p)
        elif member in chain:
            standby.add(p)
    return active, standby
