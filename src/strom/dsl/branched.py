"""``KStream.split()``: route records to named branches (KIP-418)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.dsl.graph import ProcessorGraphNode
from strom.dsl.ops.stateless import BranchProcessor, PassThroughProcessor

if TYPE_CHECKING:
    from strom.dsl.kstream import KStream


class BranchedKStream:
    """Add branches with :meth:`branch`, finish with :meth:`default_branch` or
    :meth:`no_default_branch`; both return ``{branch name: KStream}``.

    >>> import strom
    >>> b = strom.StreamsBuilder()
    >>> branches = (b.stream("events").split(name="route-")
    ...     .branch(lambda k, v: v["level"] == "error", name="errors")
    ...     .default_branch(name="other"))
    >>> sorted(branches)
    ['route-errors', 'route-other']
    """

    def __init__(self, stream: KStream, name: str | None) -> None:
        graph = stream._builder.graph
        lineage = graph.lineage([stream._node], "split")
        self._prefix = name or graph.derived("KSTREAM-BRANCH", lineage)
        self._stream = stream
        self._predicates: list[Callable[[Any, Any], bool]] = []
        self._children: list[str] = []
        self._default: str | None = None
        self._result: dict[str, KStream] = {}
        self._branch_nodes: list[tuple[str, Callable[[KStream], Any] | None]] = []
        self._done = False
        self._node = graph.add(
            ProcessorGraphNode(self._prefix, lineage, [stream._node], supplier=self._make)
        )

    def _make(self) -> BranchProcessor:
        return BranchProcessor(list(self._predicates), list(self._children), self._default)

    def branch(
        self,
        predicate: Callable[[Any, Any], bool],
        name: str | None = None,
        chain: Callable[[KStream], Any] | None = None,
    ) -> BranchedKStream:
        """A branch for records where ``predicate(key, value)`` holds (first match wins).

        ``chain``, if given, is called with the branch's stream; what it returns (a KStream)
        goes into the result instead, and None leaves the branch out.
        """
        if self._done:
            raise TopologyError("split(): no branches can be added after the default branch")
        if not callable(predicate):
            raise TopologyError(
                f"branch() takes a predicate (key, value) -> bool, got {predicate!r}"
            )
        child = self._prefix + (name if name is not None else str(len(self._predicates) + 1))
        self._predicates.append(predicate)
        self._children.append(child)
        self._add_child(child, chain)
        return self

    def default_branch(
        self, name: str | None = None, chain: Callable[[KStream], Any] | None = None
    ) -> dict[str, KStream]:
        """Records no predicate matched go to this branch; returns the branches."""
        child = self._prefix + (name if name is not None else "0")
        self._default = child
        self._add_child(child, chain)
        self._done = True
        return dict(self._result)

    def no_default_branch(self) -> dict[str, KStream]:
        """Records no predicate matched are dropped; returns the branches."""
        self._done = True
        return dict(self._result)

    def _add_child(self, child: str, chain: Callable[[KStream], Any] | None) -> None:
        from strom.dsl.kstream import KStream

        graph = self._stream._builder.graph
        if child in self._children[:-1] or (child == self._default and child in self._children):
            raise TopologyError(f"split(): two branches are named {child!r}")
        node = graph.add(
            ProcessorGraphNode(
                child,
                graph.lineage([self._node], f"branch:{child}"),
                [self._node],
                supplier=PassThroughProcessor,
            )
        )
        s = self._stream
        branch = KStream(s._builder, node, s.key_serde, s.value_serde, s._repartition_required)
        out = chain(branch) if chain is not None else branch
        if out is not None:
            self._result[child] = out
