"""The model graph: SQL files, Python models and reference seeds as one DAG.

SQL models live in `sql/<schema>/<name>.sql` with a block-comment header (kind, grain,
description, ...); their inputs are found by parsing the SQL with sqlglot. Python models
declare their inputs and outputs in `newsetl.pymodels`. Seeds are the CSV files of
`seeds/reference/`, loaded as `reference.<stem>`.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import os
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from graphlib import CycleError, TopologicalSorter
from importlib import metadata
from pathlib import Path

from newsetl.config import cache_dir

SOURCES = ("raw.articles", "raw.quarantine")
SQL_KINDS = ("view", "table", "incremental")
KINDS = (*SQL_KINDS, "python", "seed", "source")
HEADER_KEYS = ("kind", "description", "grain", "unique_key", "time_column", "tags", "columns")
LIST_KEYS = ("grain", "unique_key", "tags")
# What decides a build's output; description, grain and tags only document it.
BUILD_KEYS = ("kind", "unique_key", "time_column", "columns")
# Runner plumbing a Python model imports but whose edits do not change its output.
_INFRA_MODULES = {"newsetl.models", "newsetl.runner", "newsetl.warehouse", "newsetl.config", "newsetl.pymodels"}
_HEADER = re.compile(r"\A\s*/\*(.*?)\*/", re.S)
_DDL = ("Create", "Insert", "Update", "Delete", "Drop", "Merge", "Alter", "Command", "Set", "Use", "Transaction")
_PARSE_VERSION = "1"  # bump when what the parse cache stores changes


class ModelError(ValueError):
    """A model that cannot be built; the message names the file (and the line when known)."""


def display_path(path: Path | str) -> str:
    """A path as a user would type it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:24]


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
    definition: str = ""  # hash of the normalized SQL (or function) and its build config
    code: str = ""  # Python models: hash of the newsetl modules the function calls into
    dep_lines: dict[str, int] = field(default_factory=dict)  # table -> line of its first use

    @property
    def schema(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def tables(self) -> tuple[str, ...]:
        return self.outputs or (self.name,)

    @property
    def description(self) -> str:
        return str(self.config.get("description", ""))

    @property
    def tags(self) -> list[str]:
        tags = self.config.get("tags", [])
        return tags if isinstance(tags, list) else [tags]

    @property
    def columns(self) -> dict[str, str]:
        """Declared columns and types: the model's contract."""
        return dict(self.config.get("columns") or {})

    @property
    def unique_key(self) -> list[str]:
        return list(self.config.get("unique_key") or [])

    @property
    def time_column(self) -> str | None:
        return self.config.get("time_column") or None

    @property
    def incremental(self) -> bool:
        return self.kind == "incremental" or self.config.get("materialized") == "incremental"

    @property
    def origin(self) -> str:
        """Where the model is defined, for messages: its file, or the Python model's function."""
        if self.path:
            return display_path(self.path)
        if self.func is not None:
            try:
                return f"{display_path(inspect.getsourcefile(self.func))}:{inspect.getsourcelines(self.func)[1]}"
            except (OSError, TypeError):
                return f"{self.func.__module__}.{self.func.__name__}"
        return self.name


def _header_value(key: str, value: str) -> str | list[str]:
    if value.startswith("[") and value.endswith("]"):
        items = [v.strip() for v in value[1:-1].split(",") if v.strip()]
    else:
        items = None
    if key in LIST_KEYS:
        return items if items is not None else ([value] if value else [])
    return items if items is not None else value


def parse_header(text: str, origin: str = "<sql>") -> dict:
    """The `key: value` lines of a model's leading block comment.

    `[a, b]` is a list; a key with no value opens a block of indented `name: type` lines
    (used by `columns:`); an indented line after a scalar continues it. Unknown keys are
    errors, because a misspelt `unique_key` would otherwise silently rebuild whole tables.
    """
    match = _HEADER.match(text)
    if not match:
        return {}
    first_line = text[:match.start(1)].count("\n") + 1
    config: dict = {}
    block: str | None = None  # key whose indented entries follow
    last: str | None = None
    for number, raw in enumerate(match.group(1).splitlines(), start=first_line):
        line = raw.split("--", 1)[0].rstrip()
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        if raw[:1].isspace() and block:
            name, sep, value = line.strip().partition(":")
            if not sep or not name.strip() or not value.strip():
                raise ModelError(f"{where}: '{line.strip()}' should be 'name: type' under {block}:")
            config[block][name.strip()] = value.strip()
            continue
        if raw[:1].isspace() and last and isinstance(config.get(last), str):
            config[last] = f"{config[last]} {line.strip()}"
            continue
        key, sep, value = (part.strip() for part in line.partition(":"))
        if not sep:
            raise ModelError(f"{where}: header line '{line.strip()}' should be 'key: value'")
        if key not in HEADER_KEYS:
            raise ModelError(f"{where}: unknown header key '{key}' (known: {', '.join(HEADER_KEYS)})")
        if key in config:
            raise ModelError(f"{where}: header key '{key}' given twice")
        block = last = None
        if key == "columns":
            if value:
                raise ModelError(f"{where}: list columns on indented 'name: type' lines under 'columns:'")
            config[key], block = {}, key
        else:
            config[key], last = _header_value(key, value), key
    return config


def _check_config(config: dict, origin: str) -> str:
    kind = config.get("kind", "view")
    if kind not in SQL_KINDS:
        raise ModelError(f"{origin}: unknown kind '{kind}' (view, table or incremental)")
    if kind == "incremental" and not (config.get("unique_key") or config.get("time_column")):
        raise ModelError(f"{origin}: an incremental model needs unique_key or time_column in its header")
    if kind != "incremental" and (config.get("unique_key") or config.get("time_column")):
        raise ModelError(f"{origin}: unique_key and time_column apply to kind: incremental only (kind is {kind})")
    if "columns" in config and not config["columns"]:
        raise ModelError(f"{origin}: 'columns:' lists no columns")
    declared = config.get("columns") or {}
    for key in (*config.get("unique_key", []), *([config["time_column"]] if config.get("time_column") else [])):
        if declared and key not in declared:
            raise ModelError(f"{origin}: '{key}' is not among the declared columns")
    return kind


@dataclass
class SqlInfo:
    """What the runner needs from parsing one SQL text: the tables it reads and a normalized hash."""

    deps: dict[str, int]  # schema.table (or bare name) -> line of first use
    normalized: str  # hash of its tokens: comments and layout do not count


class _ParseCache:
    """sqlglot results keyed by the SQL text's hash, kept on disk between processes.

    Importing sqlglot and parsing every model costs more than building most of them; like
    dbt's partial parsing, only changed files are parsed again.
    """

    def __init__(self) -> None:
        self.entries: dict[str, dict] = {}
        self.loaded_from: Path | None = None
        self.dirty = False

    @staticmethod
    @cache
    def _version() -> str:
        try:
            return metadata.version("sqlglot")
        except metadata.PackageNotFoundError:
            return "unknown"

    def path(self) -> Path:
        return cache_dir() / f"sql-parse-{self._version()}-{_PARSE_VERSION}.json"

    def _load(self) -> None:
        path = self.path()
        if path != self.loaded_from:
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}
            self.loaded_from, self.dirty = path, False

    def get(self, key: str) -> dict | None:
        self._load()
        return self.entries.get(key)

    def put(self, key: str, value: dict) -> None:
        self._load()
        self.entries[key] = value
        self.dirty = True

    def save(self) -> None:
        if not self.dirty or self.loaded_from is None:
            return
        path = self.loaded_from
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            keep = dict(list(self.entries.items())[-2000:])  # newest last: a bound, not an LRU
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(keep), encoding="utf-8")
            os.replace(tmp, path)
            self.dirty = False
        except OSError:
            pass  # a cache that cannot be written only makes the next start slower


_CACHE = _ParseCache()


def _parse_sql(sql: str, origin: str) -> SqlInfo:
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as err:
        first = err.errors[0] if getattr(err, "errors", None) else {}
        where = f":{first['line']}" if first.get("line") else ""
        raise ModelError(f"{origin}{where}: cannot parse SQL: {first.get('description', str(err).splitlines()[0])}") from None
    if len(statements) != 1:
        raise ModelError(f"{origin}: a model is one query; found {len(statements)} statements")
    statement = statements[0]
    if type(statement).__name__ in _DDL:
        raise ModelError(f"{origin}: a model is a query (the runner writes the table); found {type(statement).__name__.upper()}")
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    deps: dict[str, int] = {}
    for table in statement.find_all(exp.Table):
        name = table.name.lower()
        if not name or (not table.db and name in ctes):
            continue  # table functions (read_csv(...)) and CTE references
        qualified = f"{table.db.lower()}.{name}" if table.db else name
        line = (table.this.meta or {}).get("line", 0) if isinstance(table.this, exp.Expression) else 0
        if qualified not in deps or 0 < line < deps[qualified]:
            deps[qualified] = line
    tokens = sqlglot.tokenize(sql, read="duckdb")
    normalized = digest(*(f"{t.token_type.name}:{t.text}" for t in tokens))
    return SqlInfo(deps=dict(sorted(deps.items())), normalized=normalized)


def analyse_sql(sql: str, *, origin: str = "<sql>", cache: bool = True) -> SqlInfo:
    """Tables a query reads (its own CTEs and table functions excluded) and its normalized hash."""
    key = hashlib.sha256(sql.encode("utf-8")).hexdigest()
    hit = _CACHE.get(key) if cache else None
    if hit is not None:
        return SqlInfo(deps=hit["deps"], normalized=hit["normalized"])
    info = _parse_sql(sql, origin)
    if cache:
        _CACHE.put(key, {"deps": info.deps, "normalized": info.normalized})
    return info


def sql_dependencies(sql: str, *, origin: str = "<sql>") -> set[str]:
    """Tables a query reads, as schema.name, excluding its own CTEs and table functions."""
    return set(analyse_sql(sql, origin=origin, cache=False).deps)


def _sql_definition(config: dict, normalized: str) -> str:
    return digest("sql", normalized, *(f"{k}={config.get(k)}" for k in BUILD_KEYS))


def sql_model(path: Path, schema: str | None = None) -> Model:
    """One SQL model file: header checked, dependencies parsed; `schema` defaults to its folder."""
    origin = display_path(path)
    text = path.read_text(encoding="utf-8")
    config = parse_header(text, origin)
    kind = _check_config(config, origin)
    info = analyse_sql(text, origin=origin)
    return Model(name=f"{schema or path.parent.name}.{path.stem}", kind=kind, path=path, sql=text, config=config,
                 depends_on=tuple(info.deps), dep_lines=info.deps,
                 definition=_sql_definition(config, info.normalized))


def discover_sql(sql_dir: Path) -> list[Model]:
    models = [sql_model(path) for path in sorted(sql_dir.glob("*/*.sql"))]
    _CACHE.save()
    return models


def discover_seeds(reference_dir: Path) -> list[Model]:
    return [
        Model(name=f"reference.{path.stem}", kind="seed", path=path, definition=digest("seed", path.name),
              config={"description": f"Reference seed {path.name}: loaded as text columns, as it is."})
        for path in sorted(reference_dir.glob("*.csv"))
    ]


def _function_hash(func: Callable) -> str:
    """The function's code without its decorator and docstring: editing a description rebuilds nothing."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return digest(func.__module__, func.__qualname__, func.__code__.co_code.hex())
    node = tree.body[0]
    node.decorator_list = []
    if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
        node.body = node.body[1:]
    return digest(ast.dump(node))


def _module_file_hash(name: str) -> str:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if path else ""
    except OSError:
        return ""


def _newsetl_imports(name: str) -> set[str]:
    module = sys.modules.get(name)
    found = set()
    for value in vars(module).values() if module else ():
        owner = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(owner, str) and owner.startswith("newsetl.") and owner in sys.modules:
            found.add(owner)
    return found


def _code_objects(code: types.CodeType) -> Iterable[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def python_code_hash(func: Callable) -> str:
    """Hash of the code a Python model runs besides its own function: the newsetl modules it calls into,
    followed through their imports, and the helper functions of its own module that it calls.

    A change there changes the model's output (new extraction rules, a new clustering), so the model is
    built again (whole, unless it is incremental: see runner._build_one); the runner's own modules are
    left out.
    """
    return digest(*(f"{m}={_module_file_hash(m)}" for m in python_code_modules(func)),
                  *(f"{h.__qualname__}={_function_hash(h)}" for h in _helpers(func)))


def _referenced(func: Callable) -> list:
    """The module-level objects that func's code (nested functions included) names."""
    names = {n for code in _code_objects(func.__code__) for n in code.co_names}
    return [func.__globals__[n] for n in sorted(names) if n in func.__globals__]


def _helpers(func: Callable) -> list[types.FunctionType]:
    """The functions of func's own module that it calls, directly or through one another (int_sentences
    hands its work to pymodels._analyse), in name order; func itself left out."""
    found, queue = {func}, [func]
    while queue:
        for value in _referenced(queue.pop()):
            if isinstance(value, types.FunctionType) and value.__module__ == func.__module__ and value not in found:
                found.add(value)
                queue.append(value)
    return sorted(found - {func}, key=lambda f: f.__qualname__)


def python_code_modules(func: Callable) -> list[str]:
    """The newsetl modules a Python model's function calls into, itself or through its helpers, and
    through their imports."""
    start = set()
    for current in (func, *_helpers(func)):
        for value in _referenced(current):
            owner = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
            if isinstance(owner, str) and owner.startswith("newsetl."):
                start.add(owner)
    seen: set[str] = set()
    stack = sorted(start - _INFRA_MODULES)
    while stack:
        module = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        stack.extend(sorted(_newsetl_imports(module) - _INFRA_MODULES - seen))
    return sorted(seen)


def _prepare_python(model: Model) -> None:
    if model.func is not None and not model.definition:
        config = {k: model.config.get(k) for k in ("materialized",)}
        model.definition = digest("python", model.outputs, model.depends_on, config, _function_hash(model.func))
        model.code = python_code_hash(model.func)


@dataclass
class Graph:
    models: dict[str, Model]  # by node name
    owners: dict[str, str]  # table name -> node that writes it
    order: list[str]  # node names, topological
    _children: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._children = {n: set() for n in self.models}
        for name, model in self.models.items():
            for dep in model.depends_on:
                self._children[self.owners[dep]].add(name)

    def node(self, table: str) -> Model:
        return self.models[self.owners[table]]

    def parents(self, name: str) -> list[str]:
        return sorted({self.owners[d] for d in self.models[name].depends_on})

    def children(self, name: str) -> list[str]:
        return sorted(self._children[name])

    def _walk(self, name: str, step: Callable[[str], Iterable[str]]) -> set[str]:
        seen: set[str] = set()
        stack = [name]
        while stack:
            for nxt in step(stack.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    def upstream(self, name: str) -> set[str]:
        return self._walk(name, self.parents)

    def downstream(self, name: str) -> set[str]:
        return self._walk(name, self.children)

    def resolve(self, name: str) -> str:
        """A node name from `schema.table`, a bare table name or an output table of a Python model."""
        if name in self.models:
            return name
        if name in self.owners:
            return self.owners[name]
        hits = sorted({self.owners[t] for t in self.owners if t.split(".", 1)[-1] == name})
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise ModelError(f"'{name}' is ambiguous: {', '.join(hits)}")
        raise ModelError(f"no model named '{name}' (newsetl models list shows them)")

    def select(self, patterns: Iterable[str]) -> list[str]:
        """Nodes chosen by dbt-style selectors: name, +name, name+, tag:x (several, space or comma separated)."""
        chosen: set[str] = set()
        for raw in patterns:
            for pattern in raw.replace(",", " ").split():
                up, down = pattern.startswith("+"), pattern.endswith("+")
                core = pattern.strip("+")
                if core.startswith("tag:"):
                    hits = {n for n, m in self.models.items() if core[4:] in m.tags}
                    if not hits:
                        raise ModelError(f"--select {pattern}: no model has the tag '{core[4:]}'")
                else:
                    try:
                        hits = {self.resolve(core)}
                    except ModelError as err:
                        raise ModelError(f"--select {pattern}: {err}") from None
                for hit in hits:
                    chosen.add(hit)
                    if up:
                        chosen |= self.upstream(hit)
                    if down:
                        chosen |= self.downstream(hit)
        return [n for n in self.order if n in chosen]

    def lineage_hash(self, name: str, memo: dict[str, str] | None = None) -> str:
        """Hash of this model's definition and every upstream model's: when it changes, old rows may be stale.

        Seeds and sources count as data, not definitions: new rows there are processed incrementally.
        """
        memo = {} if memo is None else memo
        if name not in memo:
            model = self.models[name]
            if model.kind in ("seed", "source"):
                memo[name] = model.kind
            else:
                memo[name] = digest(model.definition, *(self.lineage_hash(p, memo) for p in self.parents(name)))
        return memo[name]


def build_graph(models: Iterable[Model]) -> Graph:
    """Check names and dependencies and order the nodes; unknown tables and cycles name the file."""
    nodes: dict[str, Model] = {}
    owners: dict[str, str] = {}
    for source in SOURCES:
        nodes[source] = Model(name=source, kind="source", outputs=(source,), definition="source",
                              config={"description": "Append-only input written by ingest."})
    for model in models:
        if model.name in nodes:
            raise ModelError(f"{model.origin}: model {model.name} is defined twice")
        _prepare_python(model)
        nodes[model.name] = model
    for node in nodes.values():
        for table in node.tables:
            if table in owners and owners[table] != node.name:
                raise ModelError(f"{node.origin}: table {table} is also written by {owners[table]}")
            owners[table] = node.name
    sorter: TopologicalSorter = TopologicalSorter()
    for node in nodes.values():
        for dep in node.depends_on:
            line = node.dep_lines.get(dep)
            where = f"{node.origin}:{line}" if line and node.path else node.origin
            if "." not in dep:
                raise ModelError(f"{where}: table '{dep}' needs its schema (e.g. staging.{dep})")
            if dep not in owners:
                raise ModelError(f"{where}: reads unknown table '{dep}'")
        sorter.add(node.name, *(owners[d] for d in node.depends_on))
    try:
        order = _order(sorter, nodes)
    except CycleError as err:
        cycle = err.args[1]
        where = ", ".join(dict.fromkeys(nodes[n].origin for n in cycle))
        raise ModelError(f"{where}: dependency cycle {' -> '.join(cycle)}") from None
    return Graph(models=nodes, owners=owners, order=order)


def _order(sorter: TopologicalSorter, nodes: dict[str, Model]) -> list[str]:
    """The nodes in DAG order, each Python model as late as the nodes that need it allow (then as defined).

    The analysis workers analyse the new texts ahead until int_sentences asks for them (see
    analysis.LocalWorkers.prefetch): the SQL models that do not read the analysis are built meanwhile,
    not after it (dim_article: ~0.3 s of a run with 84 new articles, while it waited ~2 s for the workers).
    """
    sorter.prepare()
    defined = {name: i for i, name in enumerate(nodes)}
    ready: list[str] = []
    order: list[str] = []
    while sorter.is_active():
        ready.extend(sorter.get_ready())
        node = min(ready, key=lambda n: (nodes[n].kind == "python", defined[n]))
        ready.remove(node)
        order.append(node)
        sorter.done(node)
    return order


_LOADED: dict[tuple, Graph] = {}


def _signature(sql_dir: Path, reference_dir: Path) -> tuple:
    files = [*sorted(sql_dir.glob("*/*.sql")), *sorted(reference_dir.glob("*.csv"))]
    stats = []
    for path in files:
        st = path.stat()
        stats.append((str(path), st.st_mtime_ns, st.st_size))
    return (str(sql_dir), str(reference_dir), tuple(stats))


def load_graph(sql_dir: Path, reference_dir: Path) -> Graph:
    """The whole graph; parsed once per process while no file changes (each build task asks again)."""
    from newsetl.pymodels import python_models

    key = _signature(sql_dir, reference_dir)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = build_graph([*discover_seeds(reference_dir), *python_models(), *discover_sql(sql_dir)])
    return _LOADED[key]
