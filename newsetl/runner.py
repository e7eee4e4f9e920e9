"""Builds the model graph into a warehouse, in DAG order, recording each build in audit.model_runs."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl
import pyarrow as pa

from newsetl.config import Settings
from newsetl.models import Graph, Model, ModelError
from newsetl.warehouse import scalar, table_exists

_LINE = re.compile(r"LINE (\d+)")


@dataclass
class ModelContext:
    """What a Python model sees: the warehouse, the run and a way to spread work over workers."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    run_id: str
    full_refresh: bool = False
    map_batches: Callable[[Callable, list], list] = field(default=lambda fn, items: [fn(i) for i in items])

    def frame(self, sql: str, params: list | None = None) -> pl.DataFrame:
        return self.con.sql(sql, params=params or None).pl()


@dataclass
class BuildResult:
    model: str
    status: str  # success | error | skipped
    rows: int | None
    seconds: float
    error: str | None = None


def _as_arrow(frame) -> pa.Table:
    if isinstance(frame, pl.DataFrame):
        return frame.to_arrow()
    if isinstance(frame, pa.Table):
        return frame
    raise TypeError(f"a Python model must return a polars or pyarrow table, not {type(frame).__name__}")


def _write(con: duckdb.DuckDBPyConnection, table: str, frame, *, append: bool) -> int:
    data = _as_arrow(frame)
    con.register("_newsetl_frame", data)
    try:
        if append and table_exists(con, table):
            con.execute(f"insert into {table} by name select * from _newsetl_frame")
        else:
            con.execute(f"create or replace table {table} as select * from _newsetl_frame")
    finally:
        con.unregister("_newsetl_frame")
    return data.num_rows


def read_seed(model: Model) -> pa.Table:
    """A reference CSV as an all-text table; read strictly (DuckDB's sniffer can mistake a header for data)."""
    with model.path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise ModelError(f"{model.path}: empty seed file (a header row is required)")
    header, body = rows[0], rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ModelError(f"{model.path}:{number}: {len(row)} fields where the header has {len(header)}")
    return pa.table({name: [row[i] for row in body] for i, name in enumerate(header)},
                    schema=pa.schema([(name, pa.string()) for name in header]))


def _body(sql: str) -> str:
    return sql.strip().rstrip(";")


def build_model(ctx: ModelContext, model: Model) -> int | None:
    """Build one node; returns its row count (None for sources)."""
    con = ctx.con
    if model.kind == "source":
        return scalar(con, f"select count(*) from {model.name}")
    if model.kind == "seed":
        _write(con, model.name, read_seed(model), append=False)
    elif model.kind == "python":
        if ctx.full_refresh:
            for table in model.outputs:
                con.execute(f"drop table if exists {table}")
        result = model.func(ctx)
        results = result if isinstance(result, dict) else {model.outputs[0]: result}
        append = model.config.get("materialized") == "incremental" and not ctx.full_refresh
        for table in model.outputs:
            if table not in results:
                raise ModelError(f"Python model {model.name} did not return {table}")
            _write(con, table, results[table], append=append)
    elif model.kind == "view":
        con.execute(f"create or replace view {model.name} as\n{_body(model.sql)}")
    else:  # table; incremental models are rebuilt whole until their merge step lands
        con.execute(f"create or replace table {model.name} as\n{_body(model.sql)}")
    return scalar(con, f"select count(*) from {model.name}")


def _explain(model: Model, err: Exception) -> str:
    message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    where = str(model.path) if model.path else model.name
    match = _LINE.search(str(err))
    if match and model.path:
        # DuckDB counts lines of the statement we sent: the header comment is part of it.
        where += f":{match.group(1)}"
    return f"{where}: {type(err).__name__}: {message}"


def build(ctx: ModelContext, graph: Graph, names: Iterable[str] | None = None,
          on_model: Callable[[BuildResult], None] | None = None) -> list[BuildResult]:
    """Build nodes in DAG order; the first failure stops the build and nothing downstream runs."""
    chosen = list(names) if names is not None else graph.order
    results: list[BuildResult] = []
    failed = False
    for name in chosen:
        model = graph.models[name]
        if failed:
            result = BuildResult(name, "skipped", None, 0.0, "an upstream model failed")
        else:
            started = time.perf_counter()
            try:
                rows = build_model(ctx, model)
                result = BuildResult(name, "success", rows, time.perf_counter() - started)
            except Exception as err:  # noqa: BLE001 - every failure becomes a one-line, file-naming message
                failed = True
                result = BuildResult(name, "error", None, time.perf_counter() - started, _explain(model, err))
        results.append(result)
        ctx.con.execute(
            "insert into audit.model_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
            [ctx.run_id, name, model.kind, result.status, result.rows, round(result.seconds, 4),
             result.error, datetime.now()],
        )
        if on_model:
            on_model(result)
    return results
