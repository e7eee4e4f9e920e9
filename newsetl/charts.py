"""Inline SVG charts for the validation report: bars, an event timeline, a network and a trend.

Pure functions from plain Python values to SVG text: no JavaScript, no fonts or files to fetch,
the same input always draws the same picture. Every label is HTML-escaped here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

# One colour per category, stable across runs (the order of first use never matters).
ENTITY_COLORS = {"COUNTRY": "#3b6fd8", "ORG": "#2a9d8f", "PERSON": "#e76f51", "LOCATION": "#8a5a44",
                 "COMMODITY": "#e9a23b", "TECHNOLOGY": "#7a4fd8", "PROGRAM": "#d6457a"}
EVENT_COLORS = {"AGREE": "#2a9d8f", "CONSULT": "#3b6fd8", "SUPPORT": "#57a773", "CONCEDE": "#9bc53d",
                "COOPERATE": "#1d7874", "AID": "#4ea5d9", "RETREAT": "#a0a0a0", "REQUEST": "#6c8ead",
                "ACCUSE": "#e76f51", "REJECT": "#c8553d", "THREATEN": "#d1495b", "PROTEST": "#edae49",
                "SANCTION": "#b5179e", "MOBILIZE": "#8d6a9f", "COERCE": "#9b2226", "ASSAULT": "#6a040f",
                "INVEST": "#e9a23b"}
SERIES_COLORS = ("#3b6fd8", "#e76f51", "#2a9d8f", "#b5179e", "#e9a23b", "#6c8ead")
FALLBACK = "#6b7280"
FONT = "font-family=\"system-ui,'Noto Sans KR','NanumGothic',sans-serif\""


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def color(palette: dict[str, str], key: str | None) -> str:
    return palette.get(key or "", FALLBACK)


def _svg(chart_id: str, width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg id="{esc(chart_id)}" class="chart" role="img" aria-label="{esc(label)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" {FONT} font-size="12">'
            f'<title>{esc(label)}</title>{"".join(body)}</svg>')


def legend(palette: dict[str, str], keys: Sequence[str]) -> str:
    """An HTML legend (wraps with the page, unlike SVG text)."""
    items = "".join(f'<span class="key"><i style="background:{color(palette, k)}"></i>{esc(k)}</span>'
                    for k in keys)
    return f'<div class="legend">{items}</div>'


def bars(chart_id: str, items: Sequence[tuple[str, float]], *, colors: Sequence[str] | None = None,
         width: int = 720, label_width: int = 220, label: str = "bar chart") -> str:
    """Horizontal bars, one per (label, value), longest scale = largest value."""
    if not items:
        return '<p class="empty">No data.</p>'
    top = max(v for _, v in items) or 1
    row = 22
    body = []
    for i, (name, value) in enumerate(items):
        w = max(1.0, (width - label_width - 70) * value / top)
        y = i * row
        fill = colors[i] if colors else SERIES_COLORS[0]
        body.append(f'<g><title>{esc(name)}: {esc(_num(value))}</title>'
                    f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{esc(_clip(name, 32))}</text>'
                    f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{fill}"/>'
                    f'<text x="{label_width + w + 6:.1f}" y="{y + 15}">{esc(_num(value))}</text></g>')
    return _svg(chart_id, width, row * len(items) + 4, body, label)


def timeline(chart_id: str, cells: Sequence[tuple[str, str, int]], months: Sequence[str],
             totals: dict[str, int], *, width: int = 960, label: str = "event timeline") -> str:
    """Events per month (columns) and type (lanes): a dot's area is the number of events.

    `cells` are (month 'YYYY-MM', event_type, count); `months` is the window drawn, in order;
    `totals` counts every event of a type, dated or not, and orders the lanes.
    """
    if not totals:
        return '<p class="empty">No events.</p>'
    lanes = sorted(totals, key=lambda t: (-totals[t], t))
    left, right, top, lane = 110, 70, 8, 26
    plot_w = width - left - right
    height = top + lane * len(lanes) + 34
    step = plot_w / max(1, len(months))
    x_of = {m: left + step * (i + 0.5) for i, m in enumerate(months)}
    biggest = max((c for _, _, c in cells), default=1) or 1
    r_max = max(3.0, min(lane / 2 - 1, step * 0.9))
    body = []
    for i, kind in enumerate(lanes):
        y = top + lane * i + lane / 2
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                    f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(kind)}</text>'
                    f'<text x="{left + plot_w + 8}" y="{y + 4:.1f}" fill="#4b5563">{totals[kind]}</text>')
    lane_of = {k: i for i, k in enumerate(lanes)}
    for month, kind, count in cells:
        if month not in x_of or kind not in lane_of:
            continue
        y = top + lane * lane_of[kind] + lane / 2
        r = max(1.8, r_max * math.sqrt(count / biggest))
        body.append(f'<circle cx="{x_of[month]:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{color(EVENT_COLORS, kind)}" '
                    f'fill-opacity="0.8"><title>{esc(kind)} {esc(month)}: {count} event(s)</title></circle>')
    axis_y = top + lane * len(lanes) + 4
    body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{axis_y}" y2="{axis_y}" stroke="#9ca3af"/>')
    every = max(1, math.ceil(len(months) / 12))
    for i, month in enumerate(months):
        if i % every == 0:
            body.append(f'<text x="{x_of[month]:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#4b5563">'
                        f'{esc(month)}</text>')
    return _svg(chart_id, width, height, body, label)


def layout(nodes: Sequence[str], edges: Sequence[tuple[str, str, float]], *, width: float, height: float,
           iterations: int = 300, margin: tuple[float, float, float, float] = (30, 130, 25, 25),
           ) -> dict[str, tuple[float, float]]:
    """Fruchterman-Reingold force layout in a unit square, then scaled to the canvas minus `margin`
    (left, right, top, bottom: room for labels). Deterministic: nodes start on a circle in the given
    order and plain floats take a fixed number of steps, so the same graph always gets the same picture.
    """
    n = len(nodes)
    if n == 0:
        return {}
    pos = {v: [math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)] for i, v in enumerate(nodes)}
    k = math.sqrt(4.0 / n)  # ideal distance in a square of side 2
    heaviest = max((w for _, _, w in edges), default=1) or 1
    links = [(a, b, 0.3 + 0.7 * w / heaviest) for a, b, w in edges if a in pos and b in pos and a != b]
    for step in range(iterations):
        temperature = 0.2 * (1 - step / iterations) + 0.002
        shift = {v: [0.0, 0.0] for v in nodes}
        for i, a in enumerate(nodes):
            ax, ay = pos[a]
            for b in nodes[i + 1:]:
                dx, dy = ax - pos[b][0], ay - pos[b][1]
                d2 = dx * dx + dy * dy or 1e-6
                f = k * k / d2  # k²/d along the unit vector (dx/d, dy/d)
                shift[a][0] += dx * f
                shift[a][1] += dy * f
                shift[b][0] -= dx * f
                shift[b][1] -= dy * f
        for a, b, strength in links:
            dx, dy = pos[a][0] - pos[b][0], pos[a][1] - pos[b][1]
            f = math.hypot(dx, dy) / k * strength  # d²/k along the unit vector
            shift[a][0] -= dx * f
            shift[a][1] -= dy * f
            shift[b][0] += dx * f
            shift[b][1] += dy * f
        for v in nodes:
            # Gravity towards the centre keeps nodes without links from drifting off.
            sx, sy = shift[v][0] - pos[v][0] * k, shift[v][1] - pos[v][1] * k
            d = math.hypot(sx, sy) or 1e-6
            move = min(d, temperature)
            pos[v][0] += sx / d * move
            pos[v][1] += sy / d * move
    left, right, top, bottom = margin
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    return {v: (round(left + (p[0] - min(xs)) / span_x * (width - left - right), 1),
                round(top + (p[1] - min(ys)) / span_y * (height - top - bottom), 1)) for v, p in pos.items()}


def network(chart_id: str, nodes: Sequence[tuple[str, str, str, int]], edges: Sequence[tuple[str, str, int]],
            *, width: int = 960, height: int = 620, label: str = "co-occurrence network") -> str:
    """Entities as dots (area = articles, colour = type) linked when articles mention them together.

    `nodes` are (id, name, type, article_count); `edges` are (id, id, shared articles).
    """
    if not nodes:
        return '<p class="empty">No entities.</p>'
    ids = [n[0] for n in nodes]
    pos = layout(ids, edges, width=width, height=height)
    heaviest = max((w for _, _, w in edges), default=1) or 1
    biggest = max(n[3] for n in nodes) or 1
    names = {n[0]: n[1] for n in nodes}
    body = []
    for a, b, w in edges:
        if a in pos and b in pos:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            body.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#94a3b8" '
                        f'stroke-opacity="{0.25 + 0.6 * w / heaviest:.2f}" stroke-width="{0.6 + 4 * w / heaviest:.1f}">'
                        f'<title>{esc(names.get(a))} – {esc(names.get(b))}: {w} article(s)</title></line>')
    for entity_id, name, kind, articles in nodes:
        x, y = pos[entity_id]
        r = 4 + 14 * math.sqrt(articles / biggest)
        body.append(f'<g class="node"><title>{esc(name)} ({esc(kind)}): {articles} article(s)</title>'
                    f'<circle cx="{x}" cy="{y}" r="{r:.1f}" fill="{color(ENTITY_COLORS, kind)}" stroke="#fff"/>'
                    f'<text x="{x + r + 2:.1f}" y="{y + 4}" paint-order="stroke" stroke="#fff" stroke-width="3">'
                    f'{esc(_clip(name, 18))}</text></g>')
    return _svg(chart_id, width, height, body, label)


def trend(chart_id: str, runs: Sequence[str], series: dict[str, Sequence[float | None]],
          failures: Sequence[tuple[int, int]], *, width: int = 960, label: str = "data-quality trend") -> str:
    """Shares (0..1) per run as lines, and failed checks per run (warnings, blocking) as stacked bars.

    `runs` are x labels, oldest first; a series value of None leaves a gap (not measured in that run).
    """
    if not runs:
        return '<p class="empty">No runs yet.</p>'
    left, right, top = 50, 20, 10
    line_h, bar_h = 180, 70
    plot_w = width - left - right
    height = top + line_h + 24 + bar_h + 34
    step = plot_w / max(1, len(runs))
    x_at = [left + step * (i + 0.5) for i in range(len(runs))]
    body = []
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + line_h * (1 - tick)
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#4b5563">{tick:.0%}</text>')
    for s, (name, values) in enumerate(series.items()):
        stroke = SERIES_COLORS[s % len(SERIES_COLORS)]
        points = [(x_at[i], top + line_h * (1 - min(1.0, max(0.0, v))), v) for i, v in enumerate(values)
                  if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{stroke}" stroke-width="2"/>')
        for x, y, v in points:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{stroke}">'
                        f'<title>{esc(name)}: {v:.1%}</title></circle>')
    base = top + line_h + 24 + bar_h
    most = max((w + b for w, b in failures), default=0) or 1
    bar_w = max(2.0, min(28.0, step * 0.6))
    body.append(f'<text x="{left - 6}" y="{base - bar_h + 10}" text-anchor="end" fill="#4b5563">{most}</text>'
                f'<line x1="{left}" x2="{left + plot_w}" y1="{base}" y2="{base}" stroke="#9ca3af"/>')
    for i, (warn, block) in enumerate(failures):
        x = x_at[i] - bar_w / 2
        h_warn, h_block = bar_h * warn / most, bar_h * block / most
        body.append(f'<g><title>{esc(runs[i])}: {warn} warning(s), {block} blocking</title>'
                    f'<rect x="{x:.1f}" y="{base - h_block:.1f}" width="{bar_w:.1f}" height="{h_block:.1f}" fill="#cf222e"/>'
                    f'<rect x="{x:.1f}" y="{base - h_block - h_warn:.1f}" width="{bar_w:.1f}" height="{h_warn:.1f}" '
                    f'fill="#d4a72c"/></g>')
    every = max(1, math.ceil(len(runs) / 8))
    for i, run in enumerate(runs):
        if i % every == 0 or i == len(runs) - 1:
            body.append(f'<text x="{x_at[i]:.1f}" y="{base + 16}" text-anchor="middle" fill="#4b5563">'
                        f'{esc(run)}</text>')
    return _svg(chart_id, width, height, body, label)


def _clip(text, n: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
