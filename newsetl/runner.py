"""Builds the model graph into a warehouse in DAG order: materializations, contracts and fingerprints.

A model whose definition and inputs did not change since its last build is not rebuilt;
an incremental model processes only rows newer than what it holds, and is rebuilt whole
only when its own definition changes or on --full-refresh. Every build, skip and failure
is recorded in audit.model_runs, and what was built from what in audit.model_state.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import itertools
import re
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

import duckdb
import polars as pl
import pyarrow as pa

from newsetl.config import PROJECT_ROOT, Settings
from newsetl.models import Graph, Model, ModelError, digest, display_path
from newsetl.warehouse import scalar

_LINE = re.compile(r"\bLINE (\d+):")
_BODY_LINE = 2  # every statement that embeds a model's SQL puts its first line on line 2
STATE_DDL = """
create table if not exists audit.model_state (
    model varchar primary key,
    definition varchar,
    lineage varchar,
    state varchar,
    mode varchar,
    rows bigint,
    rows_written bigint,
    built_at timestamp,
    run_id varchar
)
"""


class ContractError(ModelError):
    """A build that would change a declared column's name or type."""


@dataclass
class ModelContext:
    """What a Python model sees: the warehouse, the run and a way to spread work over workers."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    run_id: str
    full_refresh: bool = False
    map_batches: Callable[[Callable, list], list] = field(default=lambda fn, items: [fn(i) for i in items])
    # how far a long model has got ('analysis: 4,000 of 9,000 texts'), for a live progress line
    progress: Callable[[str], None] = field(default=lambda message: None)

    def frame(self, sql: str, params: list | None = None) -> pl.DataFrame:
        return self.con.sql(sql, params=params or None).pl()


@dataclass
class BuildResult:
    model: str
    status: str  # success | unchanged | error | skipped
    rows: int | None
    seconds: float
    error: str | None = None
    mode: str | None = None  # full | incremental | view | source | unchanged
    rows_written: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("success", "unchanged")

    def summary(self) -> str:
        """One line for progress output: what happened to the model and at what cost."""
        if self.status == "unchanged":
            return f"unchanged {self.model}"
        if self.status != "success":
            return f"{self.status} {self.model}: {self.error}"
        rows = "" if self.rows is None else f"{self.rows} rows, "
        if self.mode == "incremental":
            rows += f"+{self.rows_written} new, "
        return f"built {self.model} ({self.mode}, {rows}{self.seconds:.2f}s)"


@dataclass
class _Stored:
    definition: str
    lineage: str
    state: str
    rows: int | None


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _body(sql: str) -> str:
    """The model's SQL as written (header included, so DuckDB's line numbers match the file)."""
    return sql.rstrip().rstrip(";").rstrip()


def _as_arrow(frame) -> pa.Table:
    if isinstance(frame, pl.DataFrame):
        return frame.to_arrow()
    if isinstance(frame, pa.Table):
        return frame
    raise TypeError(f"a Python model must return a polars or pyarrow table, not {type(frame).__name__}")


def read_seed(model: Model) -> pa.Table:
    """A reference CSV as an all-text table; read strictly (DuckDB's sniffer can mistake a header for data)."""
    with model.path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise ModelError(f"{model.origin}: empty seed file (a header row is required)")
    header, body = rows[0], rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ModelError(f"{model.origin}:{number}: {len(row)} fields where the header has {len(header)}")
    return pa.table({name: [row[i] for row in body] for i, name in enumerate(header)},
                    schema=pa.schema([(name, pa.string()) for name in header]))


def _duckdb_message(err: Exception) -> str:
    lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()]
    if not lines:
        return type(err).__name__
    hint = [ln for ln in lines[1:3] if ln.startswith(("Candidate", "Did you mean"))]
    return " ".join([lines[0], *hint])


def _run_body(con: duckdb.DuckDBPyConnection, model: Model, head: str, tail: str = "",
              params: list | None = None) -> list[tuple]:
    """Execute a statement wrapping the model's SQL; DuckDB errors name the file and the file's line."""
    statement = f"{head}\n{_body(model.sql)}\n{tail}"
    try:
        return con.execute(statement, params or []).fetchall()
    except duckdb.Error as err:
        match = _LINE.search(str(err))
        line = int(match.group(1)) - _BODY_LINE + 1 if match else 0
        # a line outside the file is in the runner's wrapper (a time_column the query does not output)
        where = f"{model.origin}:{line}" if 0 < line <= _body(model.sql).count("\n") + 1 else model.origin
        raise ModelError(f"{where}: {_duckdb_message(err)}") from None


_TYPES: dict[tuple, dict[str, str]] = {}


def _declared_types(con: duckdb.DuckDBPyConnection, model: Model) -> dict[str, str]:
    """The header's column types as DuckDB spells them (int -> INTEGER, text -> VARCHAR)."""
    key = tuple(model.columns.items())
    if key not in _TYPES:
        canonical = {}
        for column, declared in model.columns.items():
            try:
                canonical[column] = con.execute(f"describe select null::{declared} as x").fetchall()[0][1]
            except duckdb.Error:
                raise ContractError(f"{model.origin}: columns: '{declared}' (of {column}) is not a DuckDB type") from None
        _TYPES[key] = canonical
    return _TYPES[key]


def check_contract(con: duckdb.DuckDBPyConnection, model: Model, relation: str | None = None) -> None:
    """Fail when a build would drop a declared column or change its type.

    `relation` is what is about to be published; without one the model's query is described
    (bound, not run), so a plain table is checked before it replaces the old one.
    """
    if not model.columns:
        return
    described = con.execute(f"describe {relation}").fetchall() if relation else _run_body(con, model, "describe")
    actual = {row[0]: row[1] for row in described}
    for column, expected in _declared_types(con, model).items():
        if column not in actual:
            raise ContractError(f"{model.origin}: contract: declared column '{column}' ({expected}) "
                                f"is missing from the output")
        if actual[column] != expected:
            raise ContractError(f"{model.origin}: contract: column '{column}' would become {actual[column]}; "
                                f"the header declares {expected}")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"describe {relation}").fetchall()]


def _write_frame(con: duckdb.DuckDBPyConnection, model: Model, table: str, frame, *, append: bool) -> int:
    data = _as_arrow(frame)
    con.register("_newsetl_frame", data)
    try:
        if model.columns and table == model.tables[0]:
            check_contract(con, model, "_newsetl_frame")
        if append:
            con.execute(f"insert into {table} by name select * from _newsetl_frame")
        else:
            con.execute(f"create or replace table {table} as select * from _newsetl_frame")
    finally:
        con.unregister("_newsetl_frame")
    return data.num_rows


def _build_incremental(con: duckdb.DuckDBPyConnection, model: Model) -> tuple[str, int]:
    """Merge new rows on unique_key, or replace the time range from the current high-water mark."""
    name, column = model.name, model.time_column
    watermark = scalar(con, f"select max({_q(column)}) from {name}") if column else None
    where = f"where {_q(column)} >= ?" if watermark is not None else ""
    if where and model.unique_key:
        # Rows at the high-water mark may be new (same timestamp) or already merged: skip the merged ones,
        # so a run costs what is new, not the whole previous batch again.
        same = " and ".join(f"t.{_q(k)} is not distinct from _newsetl_model.{_q(k)}"
                            for k in (*model.unique_key, column))
        where += f" and not exists (select 1 from {name} as t where {same})"
    _run_body(con, model, "create or replace temp table _newsetl_delta as select * from (",
              f") as _newsetl_model {where}", [watermark] if where else None)
    try:
        check_contract(con, model, "_newsetl_delta")
        if _columns(con, "_newsetl_delta") != _columns(con, name):
            # Upstream columns changed under a `select *`: old rows cannot be merged, rebuild whole.
            _run_body(con, model, f"create or replace table {name} as")
            return "full", scalar(con, f"select count(*) from {name}")
        if model.unique_key:
            match = " and ".join(f"t.{_q(k)} is not distinct from d.{_q(k)}" for k in model.unique_key)
            con.execute(f"delete from {name} as t using _newsetl_delta as d where {match}")
        elif watermark is not None:
            con.execute(f"delete from {name} where {_q(column)} >= ?", [watermark])
        con.execute(f"insert into {name} by name select * from _newsetl_delta")
        return "incremental", scalar(con, "select count(*) from _newsetl_delta")
    finally:
        con.execute("drop table if exists _newsetl_delta")


def _run_python(ctx: ModelContext, model: Model, full: bool) -> Iterator[dict]:
    """Call a Python model (from scratch when `full`); its result per output table, chunk by chunk.

    A model returns one frame (or a dict of frames, one per output table), or yields such results
    in chunks: each chunk is written before the next is computed, so memory stays flat however
    much the model processes.
    """
    if full and model.incremental:
        for table in model.tables:
            ctx.con.execute(f"drop table if exists {table}")
    result = model.func(replace(ctx, full_refresh=full) if full != ctx.full_refresh else ctx)
    chunks = result if isinstance(result, Iterator) else iter([result])
    for chunk in chunks:
        results = chunk if isinstance(chunk, dict) else {model.tables[0]: chunk}
        for table in model.tables:
            if table not in results:
                raise ModelError(f"{model.origin}: Python model {model.name} did not return {table}")
        yield results


def _build_python(ctx: ModelContext, model: Model, mode: str) -> tuple[int, str]:
    """Rows written by a Python model, and the mode it was built in."""
    con = ctx.con
    full = mode == "full" or not model.incremental
    chunks = _run_python(ctx, model, full)
    first = next(chunks, None)
    if first is None:
        raise ModelError(f"{model.origin}: Python model {model.name} yielded no result")
    if not full and any(set(_as_arrow(first[t]).column_names) != {c for c, _ in _columns(con, t)}
                        for t in model.tables):
        # Its code now returns other columns: old rows cannot take new ones, so rebuild it whole.
        chunks.close()
        full, mode = True, "full"
        chunks = _run_python(ctx, model, full)
        first = next(chunks)
    written, chunked = 0, streams(model)
    for number, results in enumerate(itertools.chain([first], chunks)):
        if chunked:
            con.execute("begin transaction")  # the chunk's rows in every output table, or none of them
        try:
            written += sum(_write_frame(con, model, table, results[table], append=not full or number > 0)
                           for table in model.tables)
        except BaseException:
            if chunked:
                con.execute("rollback")
            raise
        if chunked:
            con.execute("commit")
    return written, mode


def streams(model: Model) -> bool:
    """A Python model that yields its output chunk by chunk; each chunk is committed as it is written.

    One transaction around a model that writes millions of rows would hold them all in memory. Committed
    chunks are safe: they land in the work file, which is published only after a complete, checked run,
    and a failed model's state is forgotten, so the next run builds it again (incremental models go on
    from the chunks they finished, since they skip what they already hold).
    """
    return model.kind == "python" and inspect.isgeneratorfunction(model.func)


def build_model(ctx: ModelContext, model: Model, mode: str = "full") -> tuple[int | None, int | None, str]:
    """Build one node in `mode` (full or incremental); returns (rows, rows written, mode used)."""
    con = ctx.con
    if model.kind == "source":
        return scalar(con, f"select count(*) from {model.name}"), None, "source"
    if model.kind == "seed":
        written = _write_frame(con, model, model.name, read_seed(model), append=False)
        return written, written, "full"
    if model.kind == "python":
        written, mode = _build_python(ctx, model, mode)
        return scalar(con, f"select count(*) from {model.tables[0]}"), written, mode
    if model.kind == "view":
        check_contract(con, model)
        _run_body(con, model, f"create or replace view {model.name} as")
        return None, None, "view"  # counting a view would run its query
    if model.kind == "incremental" and mode == "incremental":
        mode, written = _build_incremental(con, model)
        return scalar(con, f"select count(*) from {model.name}"), written, mode
    check_contract(con, model)
    created = _run_body(con, model, f"create or replace table {model.name} as")
    if model.kind == "incremental":
        output = {column for column, _ in _columns(con, model.name)}
        missing = [c for c in (*model.unique_key, model.time_column) if c and c not in output]
        if missing:
            raise ModelError(f"{model.origin}: {', '.join(missing)} (unique_key/time_column) is not a column "
                             f"of the query's output")
    rows = created[0][0] if created else scalar(con, f"select count(*) from {model.name}")  # CTAS returns its count
    return rows, rows, "full"


def describe_exception(err: Exception, fallback: str = "newsetl") -> str:
    """One line for an unexpected exception: the innermost project frame (file:line), the error, its message."""
    message = _duckdb_message(err) if isinstance(err, duckdb.Error) else f"{type(err).__name__}: {err}"
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if frame.filename.startswith(str(PROJECT_ROOT)) and not frame.filename.endswith("runner.py"):
            return f"{display_path(frame.filename)}:{frame.lineno}: {message}"
    return f"{fallback}: {message}"


def _explain(model: Model, err: Exception) -> str:
    """One line naming where a model failed; for Python code, the innermost project frame."""
    if isinstance(err, ModelError):
        return str(err)
    line = describe_exception(err, model.origin)
    where, _, message = line.partition(": ")
    return f"{where} ({model.name}): {message}"


class _Fingerprints:
    """Merkle-style states: a node's state hashes its definition, its data and its inputs' states.

    Inputs count as they are in the warehouse: a source by its row count (raw tables are
    append-only), a view by its definition and its own inputs (it is live), anything
    materialized by the state it was last built with.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, graph: Graph) -> None:
        self.con, self.graph = con, graph
        self.stored: dict[str, _Stored] = {
            row[0]: _Stored(*row[1:]) for row in
            con.execute("select model, definition, lineage, state, rows from audit.model_state").fetchall()}
        self._actual: dict[str, str] = {}
        self._lineage: dict[str, str] = {}
        self._sources: dict[str, int] = {}
        self.pending: dict[str, tuple] = {}  # state rows not yet written (see _Journal)

    def _data(self, model: Model) -> str:
        if model.kind == "seed":
            return hashlib.sha256(model.path.read_bytes()).hexdigest()[:24]
        if model.kind == "source":
            if model.name not in self._sources:
                self._sources[model.name] = scalar(self.con, f"select count(*) from {model.name}")
            return str(self._sources[model.name])
        return ""

    def actual(self, name: str) -> str:
        if name not in self._actual:
            model, stored = self.graph.models[name], self.stored.get(name)
            if model.kind == "source":
                self._actual[name] = self.target(name)
            elif stored is None:
                self._actual[name] = "missing"
            elif model.kind == "view":
                self._actual[name] = digest(stored.definition, *(self.actual(p) for p in self.graph.parents(name)))
            else:
                self._actual[name] = stored.state
        return self._actual[name]

    def target(self, name: str) -> str:
        """The state this node has once built from the inputs as they are now."""
        model = self.graph.models[name]
        if model.kind == "view":
            return digest(model.definition, *(self.actual(p) for p in self.graph.parents(name)))
        return digest(model.definition, model.code, self._data(model),
                      *(self.actual(p) for p in self.graph.parents(name)))

    def lineage(self, name: str) -> str:
        return self.graph.lineage_hash(name, self._lineage)

    def record(self, name: str, state: str, mode: str, rows: int | None, written: int | None,
               run_id: str) -> None:
        """Store what `name` was built from. `lineage` is that of its last full build: when upstream
        definitions have changed since, `newsetl models show` says that a --full-refresh would differ."""
        model, before = self.graph.models[name], self.stored.get(name)
        lineage = before.lineage if mode == "incremental" and before is not None else self.lineage(name)
        self.stored[name] = _Stored(model.definition, lineage, state, rows)
        self._actual.clear()  # views downstream are live: their state follows this one
        self.pending[name] = (name, model.definition, lineage, state, mode, rows, written, datetime.now(), run_id)

    def forget(self, name: str, before: _Stored | None) -> None:
        """Undo record() after a rollback."""
        if before is None:
            self.stored.pop(name, None)
        else:
            self.stored[name] = before
        self.pending.pop(name, None)
        self._actual.clear()


def _existing(con: duckdb.DuckDBPyConnection) -> set[str]:
    # duckdb_tables()/duckdb_views() answer in a few ms where information_schema takes tens
    return {f"{s}.{t}" for s, t in con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
        "union all select schema_name, view_name from duckdb_views() "
        "where database_name = current_database() and not internal").fetchall()}


_RUN_COLUMNS = ("run_id", "model", "kind", "status", "rows", "seconds", "error", "finished_at")
_STATE_COLUMNS = ("model", "definition", "lineage", "state", "mode", "rows", "rows_written", "built_at", "run_id")


class _Journal:
    """audit.model_runs and audit.model_state rows, written in one transaction when the build ends.

    A single-row insert costs DuckDB ~10 ms, more than building most models; written together
    they cost one. Losing them to a crash only makes the next run rebuild (a state that was not
    written never matches), so they need not share each model's transaction.
    """

    def __init__(self, run_id: str) -> None:
        self.run_id, self.runs = run_id, []

    def add(self, model: Model, result: BuildResult) -> None:
        self.runs.append((self.run_id, model.name, model.kind, result.status, result.rows,
                          round(result.seconds, 4), result.error, datetime.now()))

    def flush(self, con: duckdb.DuckDBPyConnection, prints: _Fingerprints) -> None:
        tables = [("audit.model_runs", "insert into", _RUN_COLUMNS, self.runs),
                  ("audit.model_state", "insert or replace into", _STATE_COLUMNS, list(prints.pending.values()))]
        con.execute("begin transaction")
        try:
            for table, verb, columns, rows in tables:
                if rows:
                    con.register("_newsetl_rows", pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)}))
                    con.execute(f"{verb} {table} by name select * from _newsetl_rows")
                    con.unregister("_newsetl_rows")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        self.runs, prints.pending = [], {}


def _build_one(ctx: ModelContext, graph: Graph, name: str, prints: _Fingerprints,
               existing: set[str]) -> BuildResult:
    model = graph.models[name]
    con = ctx.con
    started = time.perf_counter()
    before = prints.stored.get(name)
    try:
        target = prints.target(name)
        present = all(t in existing for t in model.tables)
        if model.kind == "source":
            rows, written, mode = build_model(ctx, model)
            return BuildResult(name, "success", rows, time.perf_counter() - started, mode=mode)
        if not ctx.full_refresh and present and before is not None and before.state == target:
            return BuildResult(name, "unchanged", before.rows, time.perf_counter() - started, mode="unchanged",
                               rows_written=0)
        # Like dbt, only a model's own new definition (or --full-refresh) rebuilds it whole: an upstream
        # edit must not re-run hours of content-keyed analysis. Rows already there are kept.
        fresh = not ctx.full_refresh and present and before is not None and before.definition == model.definition
        # A failed merge or Python model must leave its tables as they were: one transaction each (a streaming
        # model, one per chunk: see streams()). A view or table is one `create or replace`, atomic on its own
        # and ~20 ms cheaper without a transaction.
        atomic = model.kind in ("python", "incremental") and not streams(model)
        if atomic:
            con.execute("begin transaction")
        try:
            rows, written, mode = build_model(ctx, model, "incremental" if model.incremental and fresh else "full")
            if atomic:
                con.execute("commit")
        except BaseException:
            if atomic:
                con.execute("rollback")
            raise
        prints.record(name, target, mode, rows, written, ctx.run_id)
        existing.update(model.tables)
        return BuildResult(name, "success", rows, time.perf_counter() - started, mode=mode, rows_written=written)
    except Exception as err:  # noqa: BLE001 - every failure becomes a one-line, file-naming message
        prints.forget(name, before)
        return BuildResult(name, "error", None, time.perf_counter() - started, _explain(model, err))


def ensure_state(con: duckdb.DuckDBPyConnection, graph: Graph, names: Iterable[str]) -> None:
    """Schemas of the models and the state table; each `create` is a write, so only the missing ones."""
    present = {row[0] for row in con.execute(
        "select schema_name from duckdb_schemas() where database_name = current_database()").fetchall()}
    for schema in sorted({"audit", *(graph.models[n].schema for n in names)} - present):
        con.execute(f"create schema if not exists {schema}")
    if not con.execute("select 1 from duckdb_tables() where database_name = current_database() "
                       "and schema_name = 'audit' and table_name = 'model_state'").fetchall():
        con.execute(STATE_DDL)


def build(ctx: ModelContext, graph: Graph, names: Iterable[str] | None = None,
          on_model: Callable[[BuildResult], None] | None = None) -> list[BuildResult]:
    """Build nodes in DAG order, skipping unchanged ones; the first failure stops the build."""
    chosen = list(names) if names is not None else list(graph.order)
    ensure_state(ctx.con, graph, chosen)
    prints = _Fingerprints(ctx.con, graph)
    journal = _Journal(ctx.run_id)
    existing = _existing(ctx.con)
    results: list[BuildResult] = []
    failed = False
    try:
        for name in chosen:
            if failed:
                result = BuildResult(name, "skipped", None, 0.0, "an upstream model failed")
            else:
                result = _build_one(ctx, graph, name, prints, existing)
                failed = result.status == "error"
            journal.add(graph.models[name], result)
            results.append(result)
            if on_model:
                on_model(result)
    finally:
        journal.flush(ctx.con, prints)
    return results
