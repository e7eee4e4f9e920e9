"""The model graph: SQL files, Python models and reference seeds as one DAG.

SQL models live in `sql/<schema>/<name>.sql` with a block-comment header (kind, grain,
description, ...); their inputs are found by parsing the SQL with sqlglot. Python models
declare their inputs and outputs in `newsetl.pymodels`. Seeds are the CSV files of
`seeds/reference/`, loaded as `reference.<stem>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import sqlglot
from sqlglot import exp

SOURCES = ("raw.articles", "raw.quarantine")
KINDS = ("view", "table", "incremental", "python", "seed", "source")
_HEADER = re.compile(r"\A\s*/\*(.*?)\*/", re.S)


class ModelError(ValueError):
    """A model that cannot be built; the message names the file."""


@dataclass
class Model:
    name: str  # schema.table
    kind: str
    path: Path | None = None
    sql: str = ""
    config: dict = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()  # Python models may write several tables
    func: Callable | None = None

    @property
    def schema(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def description(self) -> str:
        return str(self.config.get("description", ""))

    @property
    def tags(self) -> list[str]:
        tags = self.config.get("tags", [])
        return tags if isinstance(tags, list) else [tags]


def parse_header(text: str) -> dict:
    """The `key: value` lines of a model's leading block comment (`[a, b]` is a list)."""
    match = _HEADER.match(text)
    if not match:
        return {}
    config: dict = {}
    for line in match.group(1).splitlines():
        line = line.split("--", 1)[0].strip()
        if not line or ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        if value.startswith("[") and value.endswith("]"):
            config[key] = [v.strip() for v in value[1:-1].split(",") if v.strip()]
        else:
            config[key] = value
    return config


def sql_dependencies(sql: str, *, origin: str = "<sql>") -> set[str]:
    """Tables a query reads, as schema.name, excluding its own CTEs and table functions."""
    try:
        statements = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as err:
        first = err.errors[0] if err.errors else {}
        where = f" line {first.get('line')}" if first.get("line") else ""
        raise ModelError(f"{origin}:{where} cannot parse SQL: {first.get('description', err)}") from None
    deps: set[str] = set()
    for statement in statements:
        if statement is None:
            continue
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            name = table.name.lower()
            if not name or (not table.db and name in ctes):
                continue
            deps.add(f"{table.db.lower()}.{name}" if table.db else name)
    return deps


def discover_sql(sql_dir: Path) -> list[Model]:
    models = []
    for path in sorted(sql_dir.glob("*/*.sql")):
        text = path.read_text(encoding="utf-8")
        config = parse_header(text)
        kind = config.get("kind", "view")
        if kind not in ("view", "table", "incremental"):
            raise ModelError(f"{path}: unknown kind '{kind}' (view, table or incremental)")
        name = f"{path.parent.name}.{path.stem}"
        models.append(
            Model(name=name, kind=kind, path=path, sql=text, config=config,
                  depends_on=tuple(sorted(sql_dependencies(text, origin=str(path)))))
        )
    return models


def discover_seeds(reference_dir: Path) -> list[Model]:
    return [
        Model(name=f"reference.{path.stem}", kind="seed", path=path,
              config={"description": f"Reference seed {path.name}"})
        for path in sorted(reference_dir.glob("*.csv"))
    ]


@dataclass
class Graph:
    models: dict[str, Model]  # by node name
    owners: dict[str, str]  # table name -> node that writes it
    order: list[str]  # node names, topological

    def node(self, table: str) -> Model:
        return self.models[self.owners[table]]

    def upstream(self, name: str) -> set[str]:
        seen: set[str] = set()
        stack = [name]
        while stack:
            for dep in self.models[stack.pop()].depends_on:
                owner = self.owners[dep]
                if owner not in seen:
                    seen.add(owner)
                    stack.append(owner)
        return seen

    def downstream(self, name: str) -> set[str]:
        return {n for n in self.models if name in self.upstream(n)}

    def select(self, patterns: Iterable[str]) -> list[str]:
        """Nodes chosen by dbt-style selectors: name, +name, name+, tag:x (several allowed)."""
        chosen: set[str] = set()
        for raw in patterns:
            for pattern in raw.replace(",", " ").split():
                up, down = pattern.startswith("+"), pattern.endswith("+")
                core = pattern.strip("+")
                if core.startswith("tag:"):
                    hits = {n for n, m in self.models.items() if core[4:] in m.tags}
                else:
                    hits = {n for n in self.models if n == core or n.split(".", 1)[1] == core}
                    hits |= {self.owners[core]} if core in self.owners else set()
                if not hits:
                    raise ModelError(f"--select {pattern}: no model matches")
                for hit in hits:
                    chosen.add(hit)
                    if up:
                        chosen |= self.upstream(hit)
                    if down:
                        chosen |= self.downstream(hit)
        return [n for n in self.order if n in chosen]


def build_graph(models: Iterable[Model]) -> Graph:
    """Check names and dependencies and order the nodes; unknown tables and cycles name the file."""
    nodes: dict[str, Model] = {}
    owners: dict[str, str] = {}
    for source in SOURCES:
        nodes[source] = Model(name=source, kind="source", outputs=(source,),
                              config={"description": "Append-only input written by ingest."})
    for model in models:
        if model.name in nodes:
            raise ModelError(f"{model.path or model.name}: model {model.name} is defined twice")
        nodes[model.name] = model
    for node in nodes.values():
        for table in node.outputs or (node.name,):
            owners[table] = node.name
    sorter: TopologicalSorter = TopologicalSorter()
    for node in nodes.values():
        for dep in node.depends_on:
            if "." not in dep:
                raise ModelError(f"{node.path or node.name}: table '{dep}' needs its schema (e.g. staging.{dep})")
            if dep not in owners:
                raise ModelError(f"{node.path or node.name}: reads unknown table '{dep}'")
        sorter.add(node.name, *(owners[d] for d in node.depends_on))
    try:
        order = list(sorter.static_order())
    except CycleError as err:
        cycle = err.args[1]
        where = ", ".join(str(nodes[n].path or n) for n in cycle[:-1])
        raise ModelError(f"dependency cycle: {' -> '.join(cycle)} (in {where})") from None
    return Graph(models=nodes, owners=owners, order=order)


def load_graph(sql_dir: Path, reference_dir: Path) -> Graph:
    from newsetl.pymodels import python_models

    return build_graph([*discover_seeds(reference_dir), *python_models(), *discover_sql(sql_dir)])
