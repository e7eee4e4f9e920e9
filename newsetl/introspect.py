"""What `newsetl models` shows: the graph in DAG order, one model in detail, lineage."""

from __future__ import annotations

from rich.table import Table

from newsetl import warehouse
from newsetl.config import Settings
from newsetl.models import Graph, load_graph


def _graph(settings: Settings) -> Graph:
    return load_graph(settings.sql_dir, settings.reference_dir)


def _resolve(graph: Graph, name: str) -> str:
    if name in graph.models:
        return name
    hits = [n for n in graph.models if n.split(".", 1)[1] == name]
    if len(hits) != 1:
        raise KeyError(f"no model named '{name}' (newsetl models list shows them)")
    return hits[0]


def _last_builds(settings: Settings) -> dict[str, tuple]:
    if not settings.db.exists():
        return {}
    with warehouse.connect(settings.db, read_only=True) as con:
        rows = con.execute("""select model, status, rows, seconds, finished_at from audit.model_runs
                              qualify row_number() over (partition by model order by finished_at desc) = 1""").fetchall()
    return {r[0]: r[1:] for r in rows}


def models_table(settings: Settings) -> Table:
    graph = _graph(settings)
    builds = _last_builds(settings)
    table = Table("model", "kind", "depends on", "last build", "rows", "seconds")
    for name in graph.order:
        m = graph.models[name]
        status, rows, seconds, finished = builds.get(name, ("-", None, None, None))
        table.add_row(name, m.kind, ", ".join(m.depends_on), f"{status} {str(finished or '')[:19]}",
                      "" if rows is None else str(rows), "" if seconds is None else f"{seconds:.2f}")
    return table


def show_model(settings: Settings, name: str) -> str:
    graph = _graph(settings)
    m = graph.models[_resolve(graph, name)]
    lines = [f"{m.name}  ({m.kind})", f"file: {m.path or 'newsetl/pymodels.py'}"]
    lines += [f"{k}: {v}" for k, v in m.config.items()]
    lines.append(f"depends on: {', '.join(m.depends_on) or '-'}")
    if settings.db.exists():
        with warehouse.connect(settings.db, read_only=True) as con:
            for table in m.outputs or (m.name,):
                if warehouse.table_exists(con, table):
                    cols = con.execute(f"describe {table}").fetchall()
                    n = warehouse.scalar(con, f"select count(*) from {table}")
                    lines.append(f"\n{table}: {n} rows")
                    lines += [f"  {c[0]}  {c[1]}" for c in cols]
    if m.sql:
        lines += ["", m.sql.strip()]
    return "\n".join(lines)


def lineage(settings: Settings, name: str) -> str:
    graph = _graph(settings)
    node = _resolve(graph, name)
    up = [n for n in graph.order if n in graph.upstream(node)]
    down = [n for n in graph.order if n in graph.downstream(node)]
    return "\n".join([f"upstream of {node}:", *(f"  {n}" for n in up), f"downstream of {node}:",
                      *(f"  {n}" for n in down)])
