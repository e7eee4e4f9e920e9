"""Marts as partitioned Parquet that DuckDB, Spark or Trino read back (hive-style folders)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from newsetl import warehouse

# The date that places a row in time, per mart: `year` and `month` partitions derive from it.
DATE_COLUMNS = {
    "dim_article": "published_date",
    "fct_event": "event_date",
    "dim_entity": "first_seen",
}
VIRTUAL = ("year", "month")


class ExportError(ValueError):
    """An export that cannot be done as asked."""


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"describe {table}").fetchall()]


def export_marts(db: Path, output: Path, partition_by: list[str], *, overwrite: bool = False) -> dict[str, dict]:
    """Write every marts.* table to output/<table>/ (partitioned where it has the columns); returns rows per table."""
    if output.exists() and any(output.iterdir()):
        if not overwrite:
            raise ExportError(f"{output} is not empty (pass --overwrite to replace it)")
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict] = {}
    with warehouse.connect(db, read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        if not tables:
            raise ExportError(f"{db} has no marts yet; run `newsetl run` first")
        for table in tables:
            cols = _columns(con, f"marts.{table}")
            date_col = DATE_COLUMNS.get(table)
            usable = [p for p in partition_by if p in cols or (p in VIRTUAL and date_col)]
            select = f"select * from marts.{table}"
            if any(p in VIRTUAL for p in usable):
                derived = [f"coalesce(cast({p}({date_col}) as varchar), 'unknown') as {p}" for p in usable
                           if p in VIRTUAL and p not in cols]
                select = f"select *, {', '.join(derived)} from marts.{table}" if derived else select
            target = output / table
            if usable:
                con.execute(f"copy ({select}) to '{target}' (format parquet, partition_by ({', '.join(usable)}), "
                            "overwrite_or_ignore true)")
            else:
                target.mkdir(parents=True, exist_ok=True)
                con.execute(f"copy ({select}) to '{target / 'data.parquet'}' (format parquet)")
            rows = warehouse.scalar(con, f"select count(*) from marts.{table}")
            written[table] = {"rows": rows, "partitioned_by": usable}
    return written


def read_back(output: Path, table: str) -> duckdb.DuckDBPyRelation:
    """The exported table as DuckDB reads it (partition columns come back from the folder names)."""
    return duckdb.sql(f"select * from read_parquet('{output / table}/**/*.parquet', hive_partitioning = true)")
