"""What `newsetl models` shows: the graph in DAG order, one model in detail, model and column lineage.

Everything reads the model files and, when there is one, the published warehouse (read-only):
columns, row counts and the last build come from the warehouse, the rest from the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from newsetl import warehouse
from newsetl.config import Settings
from newsetl.models import Graph, Model, ModelError, load_graph


@dataclass
class Built:
    """What the warehouse knows about one model."""

    mode: str | None = None
    rows: int | None = None
    built_at: object = None
    status: str | None = None  # of the latest run that touched it
    seconds: float | None = None
    error: str | None = None
    lineage: str | None = None  # of the last full build


@dataclass
class WarehouseFacts:
    builds: dict[str, Built] = field(default_factory=dict)
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table -> [(name, type)]


def graph_of(settings: Settings) -> Graph:
    return load_graph(settings.sql_dir, settings.reference_dir)


def facts(db: Path) -> WarehouseFacts:
    """Builds and columns from the published warehouse; empty when there is none yet."""
    found = WarehouseFacts()
    if not db.exists():
        return found
    with warehouse.connect(db, read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        for schema, table, column, dtype in con.execute(
                "select table_schema, table_name, column_name, data_type from information_schema.columns "
                "order by table_schema, table_name, ordinal_position").fetchall():
            found.columns.setdefault(f"{schema}.{table}", []).append((column, dtype))
        if "audit.model_state" in tables:
            for model, mode, rows, built_at, lineage in con.execute(
                    "select model, mode, rows, built_at, lineage from audit.model_state").fetchall():
                found.builds[model] = Built(mode=mode, rows=rows, built_at=built_at, lineage=lineage)
        if "audit.model_runs" in tables:
            for model, status, rows, seconds, error in con.execute("""
                    select model, status, rows, seconds, error from audit.model_runs
                    qualify row_number() over (partition by model order by finished_at desc) = 1""").fetchall():
                built = found.builds.setdefault(model, Built(rows=rows))
                built.status, built.seconds, built.error = status, seconds, error
    return found


def kind_label(model: Model) -> str:
    if model.kind == "incremental":
        how = f"merge on {', '.join(model.unique_key)}" if model.unique_key else f"by {model.time_column}"
        return f"incremental ({how})"
    if model.kind == "python":
        return "python (incremental)" if model.incremental else "python"
    return model.kind


def models_table(settings: Settings) -> Table:
    """Every node in DAG order with its kind, tags, last build and rows."""
    graph = graph_of(settings)
    known = facts(settings.db)
    table = Table(title=f"{len(graph.order)} models, in build order")
    # in a terminal too narrow for every column whole, long values wrap; none is squeezed to nothing
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("model", overflow="fold")
    table.add_column("kind")
    table.add_column("tags")
    table.add_column("last built")
    table.add_column("last run")
    table.add_column("rows", justify="right", no_wrap=True)
    for i, name in enumerate(graph.order, start=1):
        model = graph.models[name]
        built = known.builds.get(name, Built())
        when = f"{str(built.built_at)[:16]} {built.mode}" if built.built_at else "-"
        run = built.status or "-"
        if built.seconds is not None and built.status not in (None, "unchanged", "skipped"):
            run += f" {built.seconds:.2f}s"
        table.add_row(str(i), name, kind_label(model), ", ".join(model.tags), when, run,
                      "" if built.rows is None else str(built.rows))
    return table


def show_model(settings: Settings, name: str) -> str:
    """A model's config, file, inputs, columns (declared and built), row count and SQL."""
    graph = graph_of(settings)
    model = graph.models[graph.resolve(name)]
    known = facts(settings.db)
    built = known.builds.get(model.name, Built())
    lines = [f"{model.name}  ({kind_label(model)})", f"file: {model.origin}"]
    if model.description:
        lines.append(f"description: {model.description}")
    for key in ("grain", "unique_key", "time_column", "tags"):
        if model.config.get(key):
            value = model.config[key]
            lines.append(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    lines.append(f"depends on: {', '.join(model.depends_on) or '-'}")
    lines.append(f"used by: {', '.join(graph.children(model.name)) or '-'}")
    if built.built_at:
        lines.append(f"last built: {str(built.built_at)[:19]} ({built.mode}), latest run: {built.status}")
    if built.error:
        lines.append(f"latest error: {built.error}")
    if model.incremental and built.lineage and built.lineage != graph.lineage_hash(model.name):
        lines.append(f"note: upstream definitions changed since its last full build; rows built before keep "
                     f"the old logic (newsetl models run --select {model.name} --full-refresh rebuilds it)")
    declared = model.columns
    for table in model.tables:
        columns = known.columns.get(table)
        if columns is None:
            lines.append(f"\n{table}: not built yet")
            if declared and table == model.tables[0]:
                lines += [f"  {c}  {t}  (contract)" for c, t in declared.items()]
            continue
        rows = _count(settings.db, table)  # a view's rows are counted by running it: on demand only
        lines.append(f"\n{table}: {rows} rows, {len(columns)} columns")
        width = max(len(c) for c, _ in columns)
        for column, dtype in columns:
            mark = "  (contract)" if column in declared else ""
            lines.append(f"  {column.ljust(width)}  {dtype}{mark}")
    if model.sql:
        lines += ["", model.sql.strip()]
    return "\n".join(lines)


def _count(db: Path, table: str) -> int | None:
    with warehouse.connect(db, read_only=True) as con:
        return warehouse.scalar(con, f"select count(*) from {table}")


def lineage(settings: Settings, name: str) -> str:
    """Upstream and downstream models of one model, in DAG order; direct neighbours marked."""
    graph = graph_of(settings)
    node = graph.resolve(name)
    parents, children = set(graph.parents(node)), set(graph.children(node))
    up = [n for n in graph.order if n in graph.upstream(node)]
    down = [n for n in graph.order if n in graph.downstream(node)]
    width = max((len(n) for n in (*up, *down)), default=0)

    def row(n: str, direct: set[str]) -> str:
        return f"  {n.ljust(width)}  {kind_label(graph.models[n])}{'  (direct)' if n in direct else ''}"

    return "\n".join([f"{node}  ({kind_label(graph.models[node])})",
                      f"upstream ({len(up)}):", *([row(n, parents) for n in up] or ["  -"]),
                      f"downstream ({len(down)}):", *([row(n, children) for n in down] or ["  -"])])


@dataclass
class ColumnNode:
    """One column of one table in a column-lineage tree."""

    label: str  # schema.table.column
    kind: str = ""
    children: list[ColumnNode] = field(default_factory=list)


def _schema_for(graph: Graph, known: WarehouseFacts) -> dict:
    """Columns of every table as sqlglot wants them: from the warehouse, else from contracts."""
    schema: dict = {}
    for table, columns in known.columns.items():
        db, name = table.split(".", 1)
        schema.setdefault(db, {})[name] = dict(columns)
    for model in graph.models.values():
        db, name = model.name.split(".", 1)
        if model.columns and name not in schema.get(db, {}):
            schema.setdefault(db, {})[name] = model.columns
    return schema


def column_lineage(settings: Settings, name: str, column: str) -> ColumnNode:
    """Where a column's values come from, across models: sqlglot.lineage with upstream SQL as sources."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.lineage import lineage as sqlglot_lineage

    graph = graph_of(settings)
    model = graph.models[graph.resolve(name)]
    if not model.sql:
        raise ModelError(f"{model.name} is a {model.kind} node: column lineage follows SQL models only")
    sources = {n: graph.models[n].sql for n in graph.upstream(model.name) if graph.models[n].sql}
    try:
        root = sqlglot_lineage(column, model.sql, schema=_schema_for(graph, facts(settings.db)),
                               sources=sources, dialect="duckdb")
    except (SqlglotError, ValueError, KeyError) as err:
        raise ModelError(f"{model.origin}: no lineage for column '{column}': {str(err).splitlines()[0]}") from None

    def kind_of(table: str) -> str:
        owner = graph.owners.get(table)
        return kind_label(graph.models[owner]) if owner else ""

    def walk(node) -> list[ColumnNode]:
        found: list[ColumnNode] = []
        for child in node.downstream:
            if isinstance(child.expression, exp.Table):
                table = exp.table_name(child.expression).lower()
                found.append(ColumnNode(f"{table}.{child.name.rsplit('.', 1)[-1]}", kind_of(table)))
            elif child.source_name and child.name.lower().startswith(child.source_name.lower() + "."):
                found.append(ColumnNode(child.name, kind_of(child.source_name), walk(child)))
            else:
                found.extend(walk(child))  # a CTE step inside the same model
        merged: dict[str, ColumnNode] = {}
        for item in found:
            if item.label in merged:
                merged[item.label].children.extend(item.children)
            else:
                merged[item.label] = item
        return list(merged.values())

    return ColumnNode(f"{model.name}.{column}", kind_label(model), walk(root))


def render_tree(node: ColumnNode) -> str:
    lines = [f"{node.label}  ({node.kind})"]

    def add(children: list[ColumnNode], prefix: str) -> None:
        for i, child in enumerate(children):
            last = i == len(children) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{child.label}  ({child.kind})")
            add(child.children, prefix + ("    " if last else "│   "))

    add(node.children, "")
    if not node.children:
        lines.append("└── (computed: no column of another table)")
    return "\n".join(lines)
