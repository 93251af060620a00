"""A self-contained SVG drawing of a :class:`TopologyDescription` (no JavaScript, no CDN).

The layout is layered, top to bottom, as data flows: one box per sub-topology, stacked in id
order; inside a box each node sits one row below its deepest predecessor, and a store sits in
the row of the first processor that uses it (joined to its users by dotted lines). Topics are
pills between the boxes: the topics a sub-topology reads sit just above its box, and those it
writes just below (a repartition topic written by one sub-topology and read by the next sits
between the two). Rows are ordered by the mean position of their predecessors, which keeps
most edges straight. Output is a pure, deterministic function of the description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from strom.topology.description import SubtopologyDescription, TopologyDescription

__all__ = ["to_svg"]

FONT = 12
CHAR_W = 7.2  # average glyph width of the sans-serif font at FONT px
NODE_H = 30
ROW_GAP = 40
COL_GAP = 18
PAD = 16
LABEL_H = 26
MARGIN = 20

STYLE = """
.box{fill:#f6f8fa;stroke:#8c959f;stroke-dasharray:5 3;rx:8}
.box-label{font:bold 12px sans-serif;fill:#57606a}
.n rect,.n path,.n ellipse{stroke-width:1.4}
.Source rect{fill:#dbeafe;stroke:#2563eb}
.Processor rect{fill:#ffffff;stroke:#475569}
.Sink rect{fill:#dcfce7;stroke:#16a34a}
.topic rect{fill:#fef3c7;stroke:#d97706}
.store path,.store ellipse{fill:#f3e8ff;stroke:#9333ea}
.n text{font:12px sans-serif;fill:#111827;text-anchor:middle;dominant-baseline:central}
.edge{fill:none;stroke:#64748b;stroke-width:1.3}
.link{fill:none;stroke:#9333ea;stroke-width:1.2;stroke-dasharray:3 3}
"""


@dataclass
class _Box:
    key: tuple[str, str]  # (kind, name): topics, nodes and stores have separate namespaces
    label: str
    cls: str  # Source | Processor | Sink | topic | store
    title: str
    w: float = 0.0
    x: float = 0.0
    y: float = 0.0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + NODE_H


@dataclass
class _Cluster:
    sub: SubtopologyDescription
    rows: list[list[_Box]] = field(default_factory=list)
    left: float = 0.0  # extent around the centre line, stores hanging to the right
    right: float = 0.0
    x: float = 0.0
    y: float = 0.0
    h: float = 0.0

    @property
    def w(self) -> float:
        return self.right - self.left


def _width(text: str) -> float:
    return max(64.0, round(len(text) * CHAR_W) + 24.0)


def _row_width(row: list[_Box]) -> float:
    return sum(b.w for b in row) + COL_GAP * max(0, len(row) - 1)


def _layers(sub: SubtopologyDescription) -> dict[str, int]:
    preds = {n.name: [p for p in n.predecessors] for n in sub.nodes}
    layer: dict[str, int] = {}

    def depth(name: str, seen: frozenset[str]) -> int:
        if name in layer:
            return layer[name]
        parents = [p for p in preds.get(name, ()) if p in preds and p not in seen]
        d = 1 + max((depth(p, seen | {name}) for p in parents), default=-1)
        layer[name] = d
        return d

    for n in sub.nodes:
        depth(n.name, frozenset())
    return layer


def _cluster(sub: SubtopologyDescription, boxes: dict[tuple[str, str], _Box]) -> _Cluster:
    layer = _layers(sub)
    rows: list[list[_Box]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for n in sub.nodes:
        extra = ""
        if n.topics:
            extra = f"\ntopics: {', '.join(n.topics)}"
        elif n.topic:
            extra = f"\ntopic: {n.topic}"
        if n.stores:
            extra += f"\nstores: {', '.join(n.stores)}"
        box = _Box(("node", n.name), n.name, n.kind, f"{n.kind}: {n.name}{extra}", _width(n.name))
        boxes[box.key] = box
        rows[layer[n.name]].append(box)
    # order each row by the mean position of its predecessors in the rows above
    position: dict[str, float] = {}
    for i, row in enumerate(rows):
        if i:
            preds = {n.name: n.predecessors for n in sub.nodes}

            def bary(b: _Box, preds: dict[str, tuple[str, ...]] = preds) -> float:
                ps = [position[p] for p in preds[b.label] if p in position]
                return sum(ps) / len(ps) if ps else float("inf")

            row.sort(key=bary)
        for j, b in enumerate(row):
            position[b.label] = j
    # stores: in the row of their first user, after the nodes
    for n in sub.nodes:
        for s in n.stores:
            if ("store", s) in boxes:
                continue
            box = _Box(("store", s), s, "store", f"State store: {s}", _width(s))
            boxes[box.key] = box
            rows[layer[n.name]].append(box)
    cluster = _Cluster(sub, rows)
    label_w = _width(_cluster_label(sub))
    extents = [_extent(r) for r in rows] or [(0.0, 0.0)]
    cluster.left = min(min(lo for lo, _ in extents), -label_w / 2) - PAD
    cluster.right = max(max(hi for _, hi in extents), label_w / 2) + PAD
    cluster.h = LABEL_H + len(rows) * NODE_H + max(0, len(rows) - 1) * ROW_GAP + PAD
    return cluster


def _cluster_label(sub: SubtopologyDescription) -> str:
    return f"Sub-topology: {sub.id}" + (" (global store)" if sub.is_global else "")


def _extent(row: list[_Box]) -> tuple[float, float]:
    """Left and right of a row around the centre line: its nodes (or topics) are centred on
    it, its stores hang to the right of them."""
    nodes = [b for b in row if b.cls != "store"]
    stores = [b for b in row if b.cls == "store"]
    half = _row_width(nodes) / 2
    right = half + (COL_GAP + _row_width(stores) if stores else 0.0)
    return -half, right


def _place_row(row: list[_Box], center: float, y: float) -> None:
    nodes = [b for b in row if b.cls != "store"]
    stores = [b for b in row if b.cls == "store"]
    x = center - _row_width(nodes) / 2
    for b in nodes + stores:
        b.x, b.y = x, y
        x += b.w + COL_GAP


def _topic_rows(
    description: TopologyDescription, boxes: dict[tuple[str, str], _Box]
) -> list[list[_Box]]:
    """Gap ``i`` (before sub-topology ``i``; the last one after all) holds the topics written by
    sub-topology ``i - 1`` and those read by sub-topology ``i``, each in the first gap it fits."""
    subs = description.subtopologies
    gaps: list[list[_Box]] = [[] for _ in range(len(subs) + 1)]

    def put(i: int, topic: str) -> None:
        if ("topic", topic) not in boxes:
            box = _Box(("topic", topic), topic, "topic", f"Topic: {topic}", _width(topic))
            boxes[box.key] = box
            gaps[i].append(box)

    for i, sub in enumerate(subs):
        if i:
            for n in subs[i - 1].nodes:
                if n.kind == "Sink" and n.topic:
                    put(i, n.topic)
        for n in sub.nodes:
            if n.kind == "Source":
                for t in n.topics:
                    put(i, t)
    for n in subs[-1].nodes if subs else ():
        if n.kind == "Sink" and n.topic:
            put(len(subs), n.topic)
    return gaps


def _edges(
    description: TopologyDescription, boxes: dict[tuple[str, str], _Box]
) -> tuple[list[tuple[_Box, _Box]], list[tuple[_Box, _Box]]]:
    flows: list[tuple[_Box, _Box]] = []
    links: list[tuple[_Box, _Box]] = []
    for sub in description.subtopologies:
        for n in sub.nodes:
            me = boxes[("node", n.name)]
            if n.kind == "Source":
                flows += [(boxes[("topic", t)], me) for t in n.topics]
            flows += [(me, boxes[("node", s)]) for s in n.successors if ("node", s) in boxes]
            if n.kind == "Sink" and n.topic:
                flows.append((me, boxes[("topic", n.topic)]))
            links += [(me, boxes[("store", s)]) for s in n.stores]
    return flows, links


def _flow_path(a: _Box, b: _Box, right: float) -> str:
    if b.y > a.y:  # downwards: bottom centre to top centre
        x1, y1, x2, y2 = a.cx, a.bottom, b.cx, b.y - 2
        dy = max(16.0, (y2 - y1) / 2)
        return (
            f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + dy:.1f} {x2:.1f},{y2 - dy:.1f} {x2:.1f},{y2:.1f}"
        )
    # sideways or upwards (a topic read again above where it is written): around the right
    x1, y1 = a.x + a.w, a.y + NODE_H / 2
    x2, y2 = b.x + b.w + 2, b.y + NODE_H / 2
    out = max(x1, x2) + 30 if right <= 0 else right
    return f"M{x1:.1f},{y1:.1f} C{out:.1f},{y1:.1f} {out:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


def _link_path(a: _Box, s: _Box) -> str:
    ay, sy = a.y + NODE_H / 2, s.y + NODE_H / 2
    if s.x >= a.x + a.w:
        return f"M{a.x + a.w:.1f},{ay:.1f} L{s.x:.1f},{sy:.1f}"
    if s.x + s.w <= a.x:
        return f"M{a.x:.1f},{ay:.1f} L{s.x + s.w:.1f},{sy:.1f}"
    if s.y > a.y:
        return f"M{a.cx:.1f},{a.bottom:.1f} L{s.cx:.1f},{s.y:.1f}"
    return f"M{a.cx:.1f},{a.y:.1f} L{s.cx:.1f},{s.bottom:.1f}"


def _shape(b: _Box) -> str:
    x, y, w, h = b.x, b.y, b.w, NODE_H
    if b.cls == "store":
        e = 5.0
        body = (
            f'<path d="M{x:.1f},{y + e:.1f} v{h - 2 * e:.1f} a{w / 2:.1f},{e} 0 0 0 {w:.1f},0 '
            f'v{-(h - 2 * e):.1f}"/>'
            f'<ellipse cx="{x + w / 2:.1f}" cy="{y + e:.1f}" rx="{w / 2:.1f}" ry="{e}"/>'
        )
        ty = y + h / 2 + e / 2
    else:
        rx = NODE_H / 2 if b.cls == "topic" else 4
        body = f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="{rx}"/>'
        ty = y + h / 2
    cls = f"n {b.cls}"
    kind = {"topic": "topic", "store": "store"}.get(b.cls, "node")
    return (
        f'<g class="{cls}" data-kind="{kind}" data-name="{escape(b.label)}">'
        f"<title>{escape(b.title)}</title>{body}"
        f'<text x="{b.cx:.1f}" y="{ty:.1f}">{escape(b.label)}</text></g>'
    )


def _mean_x(topic: _Box, flows: list[tuple[_Box, _Box]]) -> float:
    xs = [b.cx for a, b in flows if a is topic] + [a.cx for a, b in flows if b is topic]
    return sum(xs) / len(xs) if xs else topic.cx


def to_svg(description: TopologyDescription) -> str:
    """The topology as one ``<svg>`` element (inline it in HTML, or save it as a .svg file).

    >>> from strom import StreamsBuilder
    >>> b = StreamsBuilder()
    >>> b.stream("in", name="src").to("out", name="sink")
    >>> svg = to_svg(b.build().describe())
    >>> svg.startswith("<svg"), "Sub-topology: 0" in svg, ">src</text>" in svg
    (True, True, True)
    """
    boxes: dict[tuple[str, str], _Box] = {}
    subs = description.subtopologies
    clusters = [_cluster(sub, boxes) for sub in subs]
    gaps = _topic_rows(description, boxes)
    left = min([c.left for c in clusters] + [-_row_width(g) / 2 for g in gaps] + [-100.0])
    right_edge = max([c.right for c in clusters] + [_row_width(g) / 2 for g in gaps] + [100.0])
    width = right_edge - left
    center = MARGIN - left
    y = float(MARGIN)
    for i, gap in enumerate(gaps):
        if gap:
            _place_row(gap, center, y)
            y += NODE_H + ROW_GAP
        elif i:
            y += ROW_GAP / 2
        if i < len(clusters):
            c = clusters[i]
            c.x, c.y = center + c.left, y
            ry = y + LABEL_H
            for row in c.rows:
                _place_row(row, center, ry)
                ry += NODE_H + ROW_GAP
            y += c.h + ROW_GAP
    height = y + MARGIN - ROW_GAP / 2
    flows, links = _edges(description, boxes)
    for gap in gaps:  # topics above the nodes they feed (or below those writing them)
        if len(gap) > 1:
            gap.sort(key=lambda t: _mean_x(t, flows))
            _place_row(gap, center, gap[0].y)
    right = MARGIN + width + 10
    total_w = width + 2 * MARGIN + (40 if any(b.y <= a.y for a, b in flows) else 0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="topology" class="topology" '
        f'width="{total_w:.0f}" height="{height:.0f}" viewBox="0 0 {total_w:.0f} {height:.0f}" '
        f'role="img" aria-label="topology diagram">',
        f"<style>{STYLE}</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#64748b"/></marker></defs>',
    ]
    for c in clusters:
        label = _cluster_label(c.sub)
        out.append(
            f'<g class="subtopology" data-subtopology="{c.sub.id}">'
            f'<rect class="box" x="{c.x:.1f}" y="{c.y:.1f}" width="{c.w:.1f}" '
            f'height="{c.h:.1f}" rx="8"/>'
            f'<text class="box-label" x="{c.x + 10:.1f}" y="{c.y + 17:.1f}">{escape(label)}</text>'
            "</g>"
        )
    for a, b in links:
        out.append(f'<path class="link" d="{_link_path(a, b)}"/>')
    for a, b in flows:
        out.append(f'<path class="edge" marker-end="url(#arrow)" d="{_flow_path(a, b, right)}"/>')
    out += [_shape(b) for b in boxes.values()]
    out.append("</svg>")
    return "\n".join(out)
