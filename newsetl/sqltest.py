"""SQL unit tests: one model's SQL run on given rows per upstream table, in an in-memory DuckDB.

Like dbt unit tests and SQLMesh's test YAML, in plain pytest: a test names the model,
gives a few rows for each table it reads, and compares the rows that come back.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from newsetl import warehouse
from newsetl.config import Settings
from newsetl.models import Model, sql_model


class SqlTestError(ValueError):
    """A unit test that does not match its model: missing or unknown input tables, a bad type."""


def find_model(name: str | Path, sql_dir: Path | None = None) -> Model:
    """A SQL model by file path, `schema.table` or bare table name."""
    sql_dir = sql_dir or Settings().sql_dir
    path = Path(name)
    if path.suffix == ".sql":
        return sql_model(path)
    schema, _, table = str(name).rpartition(".")
    hits = [sql_dir / schema / f"{table}.sql"] if schema else sorted(sql_dir.glob(f"*/{table}.sql"))
    hits = [h for h in hits if h.exists()]
    if len(hits) != 1:
        raise SqlTestError(f"no single SQL model named '{name}' under {sql_dir}")
    return sql_model(hits[0])


def _create(con, table: str, rows: list[dict], types: dict[str, str]) -> None:
    con.execute(f"create schema if not exists {table.split('.', 1)[0]}")
    columns = list(dict.fromkeys([*(k for row in rows for k in row), *types]))
    if not rows:
        if not types:
            raise SqlTestError(f"{table}: no rows given; pass its column types to create it empty")
        con.execute(f"create table {table} ({', '.join(f'{c} {t}' for c, t in types.items())})")
        return
    data = pa.table({c: pa.array([row.get(c) for row in rows]) for c in columns})
    con.register("_given", data)
    select = []
    for column, field in zip(data.column_names, data.schema, strict=True):
        quoted = f'"{column}"'
        if column in types:
            select.append(f"cast({quoted} as {types[column]}) as {quoted}")
        elif pa.types.is_null(field.type):
            select.append(f"cast({quoted} as varchar) as {quoted}")  # an all-null column: text unless typed
        else:
            select.append(quoted)
    try:
        con.execute(f"create table {table} as select {', '.join(select)} from _given")
    finally:
        con.unregister("_given")


def _sort_key(row: dict, columns: list[str]) -> tuple:
    def orderable(value):
        return repr(value) if isinstance(value, (list, dict)) else value
    return tuple((row[c] is None, orderable(row[c]) if row[c] is not None else 0) for c in columns)


def run_model(model: str | Path | Model, given: dict[str, list[dict]], *,
              types: dict[str, dict[str, str]] | None = None, sql_dir: Path | None = None) -> list[dict]:
    """The rows `model` returns when its upstream tables hold exactly `given`.

    `given` maps every table the SQL reads (schema.table) to its rows; `types` pins column
    types where the values cannot say (an all-null column, a DATE given as text). Rows come
    back as dicts, sorted by the model's grain (or all columns), so tests compare them directly.
    """
    model = model if isinstance(model, Model) else find_model(model, sql_dir)
    missing = sorted(set(model.depends_on) - set(given))
    unused = sorted(set(given) - set(model.depends_on))
    if missing:
        raise SqlTestError(f"{model.origin}: no rows given for {', '.join(missing)}")
    if unused:
        raise SqlTestError(f"{model.origin}: the model does not read {', '.join(unused)}")
    with warehouse.connect(":memory:") as con:
        for table, rows in given.items():
            _create(con, table, rows, (types or {}).get(table, {}))
        relation = con.sql(model.sql.rstrip().rstrip(";"))
        columns, data = relation.columns, relation.fetchall()
    rows = [dict(zip(columns, row, strict=True)) for row in data]
    grain = [c for c in model.config.get("grain", []) if c in columns]
    order = [*grain, *(c for c in columns if c not in grain)]
    return sorted(rows, key=lambda row: _sort_key(row, order))
