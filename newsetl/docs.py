"""`newsetl models docs`: one self-contained HTML page of every model, its columns and the lineage graph.

The graph is inline SVG laid out here (layers by longest path, ordered to reduce crossings);
no scripts, fonts or stylesheets from a CDN, so the page opens offline and as a CI artifact.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from html import escape
from pathlib import Path

from newsetl.config import Settings
from newsetl.introspect import Built, WarehouseFacts, facts, graph_of, kind_label
from newsetl.models import Graph, Model

NODE_H, GAP_X, GAP_Y, PAD, CHAR_W = 24, 60, 10, 12, 7.4  # CHAR_W: 12px monospace
COLOURS = {"source": "#d9d9d9", "seed": "#f3e3c3", "view": "#d6e8f7", "table": "#b9d3ee",
           "incremental": "#bfe3c6", "python": "#ddd0f0"}
CSS = """
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 24px 48px; color: #1d2430; }
h1 { margin-top: 28px; } h2 { margin: 0 0 4px; font-size: 18px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.graph { overflow-x: auto; border: 1px solid #d8dde6; border-radius: 6px; background: #fbfcfe; }
.graph a text { fill: #1d2430; } .graph a:hover rect { stroke: #1d2430; stroke-width: 1.5; }
section { border-top: 1px solid #d8dde6; padding: 18px 0 8px; }
.kind { font-size: 12px; font-weight: normal; padding: 1px 7px; border-radius: 9px; margin-left: 6px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px 3px 0; text-align: left;
        vertical-align: top; } th { font-weight: 600; border-bottom: 1px solid #d8dde6; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 8px 0; }
dt { color: #5b6577; } dd { margin: 0; }
pre { background: #f4f6fa; padding: 10px; border-radius: 6px; overflow-x: auto; }
.muted { color: #5b6577; } .legend span { display: inline-block; padding: 1px 8px; margin-right: 6px;
        border-radius: 9px; font-size: 12px; }
"""


def _anchor(name: str) -> str:
    return "m-" + name.replace(".", "-")


def _colour(model: Model) -> str:
    return COLOURS.get(model.kind, "#eeeeee")


def layout(graph: Graph) -> dict[str, tuple[int, int]]:
    """(layer, position) per node: layer = longest path from a source; positions by parents' barycentre."""
    layer: dict[str, int] = {}
    for name in graph.order:
        layer[name] = 1 + max((layer[p] for p in graph.parents(name)), default=-1)
    for name in reversed(graph.order):
        # Seeds and sources sit just before their first reader, not all in the first column.
        children = graph.children(name)
        if not graph.parents(name) and children:
            layer[name] = min(layer[c] for c in children) - 1
    layers: dict[int, list[str]] = {}
    for name in sorted(graph.order, key=lambda n: (graph.models[n].schema, n)):
        layers.setdefault(layer[name], []).append(name)
    position = {n: i for names in layers.values() for i, n in enumerate(names)}
    for _ in range(3):  # a few barycentre sweeps are enough for a graph of this size
        for depth in sorted(layers)[1:]:
            def centre(n: str) -> float:
                parents = graph.parents(n)
                return sum(position[p] for p in parents) / len(parents) if parents else position[n]
            layers[depth].sort(key=lambda n: (centre(n), n))
            position.update({n: i for i, n in enumerate(layers[depth])})
    return {n: (layer[n], position[n]) for n in graph.order}


def lineage_svg(graph: Graph) -> str:
    """The whole DAG as an SVG element; every node links to its section."""
    places = layout(graph)
    node_w = int(max(len(n) for n in graph.order) * CHAR_W) + 18
    rows = max(p for _, p in places.values()) + 1
    cols = max(layer for layer, _ in places.values()) + 1
    width, height = PAD * 2 + cols * node_w + (cols - 1) * GAP_X, PAD * 2 + rows * (NODE_H + GAP_Y)

    def xy(name: str) -> tuple[int, int]:
        layer, pos = places[name]
        return PAD + layer * (node_w + GAP_X), PAD + pos * (NODE_H + GAP_Y)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="model lineage graph">',
             '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#8a94a6"/></marker></defs>']
    for name in graph.order:
        x2, y2 = xy(name)
        for parent in graph.parents(name):
            x1, y1 = xy(parent)
            sx, sy, ex, ey = x1 + node_w, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
            mid = (sx + ex) / 2
            parts.append(f'<path d="M{sx},{sy} C{mid},{sy} {mid},{ey} {ex - 1},{ey}" fill="none" '
                         f'stroke="#8a94a6" stroke-width="1" marker-end="url(#arrow)"/>')
    for name in graph.order:
        model, (x, y) = graph.models[name], xy(name)
        tip = escape(f"{name} ({kind_label(model)}): {model.description}")
        parts.append(f'<a href="#{_anchor(name)}"><title>{tip}</title>'
                     f'<rect x="{x}" y="{y}" width="{node_w}" height="{NODE_H}" rx="5" fill="{_colour(model)}" '
                     f'stroke="#8a94a6"/><text x="{x + 8}" y="{y + NODE_H / 2 + 4}" font-size="12" '
                     f'font-family="ui-monospace, Menlo, Consolas, monospace">{escape(name)}</text></a>')
    parts.append("</svg>")
    return "\n".join(parts)


def _links(names: list[str]) -> str:
    return ", ".join(f'<a href="#{_anchor(n)}">{escape(n)}</a>' for n in names) or '<span class="muted">none</span>'


def _columns_table(model: Model, known: WarehouseFacts) -> str:
    declared = model.columns
    rows = []
    for table in model.tables:
        built = known.columns.get(table)
        columns = built if built is not None else list(declared.items()) if table == model.tables[0] else []
        if not columns:
            continue
        if len(model.tables) > 1:
            rows.append(f'<tr><th colspan="3" class="mono">{escape(table)}</th></tr>')
        for column, dtype in columns:
            contract = f"contract: {escape(declared[column])}" if column in declared else ""
            rows.append(f'<tr><td class="mono">{escape(column)}</td><td class="mono">{escape(dtype)}</td>'
                        f'<td class="muted">{contract}</td></tr>')
    if not rows:
        return '<p class="muted">Columns appear once the model has been built.</p>'
    return "<table><tr><th>column</th><th>type</th><th></th></tr>" + "".join(rows) + "</table>"


def _code(model: Model) -> str:
    if model.sql:
        return f"<details><summary>SQL</summary><pre>{escape(model.sql.strip())}</pre></details>"
    if model.func is not None:
        try:
            source = inspect.getsource(model.func)
        except (OSError, TypeError):
            return ""
        return f"<details><summary>Python</summary><pre>{escape(source.strip())}</pre></details>"
    return ""


def _section(graph: Graph, model: Model, known: WarehouseFacts) -> str:
    built = known.builds.get(model.name, Built())
    facts_rows = [("file", model.origin)]
    for key in ("grain", "unique_key", "time_column", "tags"):
        value = model.config.get(key)
        if value:
            facts_rows.append((key.replace("_", " "), ", ".join(value) if isinstance(value, list) else value))
    if built.built_at:
        facts_rows.append(("last built", f"{str(built.built_at)[:19]} ({built.mode})"))
    if built.rows is not None:
        facts_rows.append(("rows", f"{built.rows:,}"))
    dl = "".join(f"<dt>{escape(k)}</dt><dd class=\"mono\">{escape(str(v))}</dd>" for k, v in facts_rows)
    return (f'<section id="{_anchor(model.name)}"><h2 class="mono">{escape(model.name)}'
            f'<span class="kind" style="background:{_colour(model)}">{escape(kind_label(model))}</span></h2>'
            f"<p>{escape(model.description) or '<span class=muted>No description.</span>'}</p>"
            f"<dl>{dl}<dt>depends on</dt><dd>{_links(graph.parents(model.name))}</dd>"
            f"<dt>used by</dt><dd>{_links(graph.children(model.name))}</dd></dl>"
            f"{_columns_table(model, known)}{_code(model)}</section>")


def render(graph: Graph, known: WarehouseFacts, title: str = "newsetl models") -> str:
    legend = "".join(f'<span style="background:{c}">{k}</span>' for k, c in COLOURS.items())
    index = "".join(
        f'<tr><td class="mono"><a href="#{_anchor(n)}">{escape(n)}</a></td><td>{escape(kind_label(graph.models[n]))}'
        f"</td><td>{escape(graph.models[n].description)}</td></tr>" for n in graph.order)
    sections = "\n".join(_section(graph, graph.models[n], known) for n in graph.order)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
            f"<h1>{escape(title)}</h1><p class=\"muted\">{len(graph.order)} models, generated "
            f"{datetime.now():%Y-%m-%d %H:%M}. Arrows point from a model to the models that read it.</p>"
            f'<p class="legend">{legend}</p><div class="graph">{lineage_svg(graph)}</div>'
            f"<h2 style=\"margin-top:24px\">Models in build order</h2><table>{index}</table>{sections}"
            f"</body></html>\n")


def write_docs(settings: Settings, output: Path) -> Path:
    """Write the page for the models of `settings` and what the published warehouse knows of them."""
    html = render(graph_of(settings), facts(settings.db))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    return output
