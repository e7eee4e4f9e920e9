"""Runner overhead: newsetl's model runner against the same SQL executed directly, on a built warehouse.

Usage (from the project root; the warehouse is copied, never modified):
    uv run python bench/runner_overhead.py --db /tmp/c5k.duckdb [--repeat 5] [--new-source DIR]

For each repeat, on the same copy and in alternating order:
  direct  executes, in DAG order, exactly what a hand-written script would: `create or replace
          table|view <model> as <its SQL>` for every SQL model and `read_csv` for every seed;
  runner  runs newsetl.runner.build over the same nodes with full_refresh (so both do the same
          work), through a connection wrapper that times every statement DuckDB executes.
Overhead = what the runner adds to the models' own statements: its Python time (wall time minus
time inside DuckDB) plus its bookkeeping statements (counts, catalog, state and audit rows),
measured within one build (the median one); the paired difference against the direct runs is
shown as a check. Then a no-op build
(nothing changed: fingerprints) and, with --new-source DIR, a daily run: those files ingested,
the whole graph built (Python models included), per model. Prints a table; writes JSON to
bench/results/runner_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsetl import warehouse  # noqa: E402
from newsetl.config import Settings  # noqa: E402
from newsetl.models import load_graph  # noqa: E402
from newsetl.runner import ModelContext, build  # noqa: E402

SQL_KINDS = ("view", "table", "incremental")


class TimedConnection:
    """A DuckDB connection whose execute() calls are timed, split into the models' own work and bookkeeping.

    The models' work is what the direct run does too: creating views and tables, merging rows,
    and the commits that write them. Bookkeeping is what only the runner does: row counts,
    contract and catalog lookups, watermarks, schemas, the state and audit rows.
    """

    def __init__(self, con) -> None:
        self._con, self.seconds, self.bookkeeping, self.statements = con, 0.0, 0.0, 0
        self._journal = False  # inside the transaction that writes audit rows

    def execute(self, sql, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            spent = time.perf_counter() - started
            self.seconds += spent
            self.statements += 1
            head = " ".join(sql.split()[:4]).lower()
            if head.startswith(("insert into audit.", "insert or replace into audit.")):
                self._journal = True
            journal_end = self._journal and head.startswith(("commit", "rollback"))
            if journal_end or self._journal or head.startswith(
                    ("select", "describe", "create schema", "create table if not exists",
                     "drop table if exists _newsetl")):
                self.bookkeeping += spent
            if journal_end:
                self._journal = False

    def __getattr__(self, name):
        return getattr(self._con, name)


def direct_statements(graph, nodes: list[str]) -> list[tuple[str, str]]:
    statements = []
    for name in nodes:
        model = graph.models[name]
        if model.kind == "seed":
            sql = (f"create or replace table {name} as select * from "
                   f"read_csv('{model.path}', all_varchar = true, header = true)")
        elif model.kind == "view":
            sql = f"create or replace view {name} as\n{model.sql.rstrip().rstrip(';')}"
        elif model.kind in SQL_KINDS:
            sql = f"create or replace table {name} as\n{model.sql.rstrip().rstrip(';')}"
        else:
            continue
        statements.append((name, sql))
    return statements


def run_direct(db: Path, statements: list[tuple[str, str]]) -> float:
    with warehouse.connect(db) as con:
        started = time.perf_counter()
        for _, sql in statements:
            con.execute(sql)
        return time.perf_counter() - started


def run_runner(db: Path, graph, nodes: list[str], *, full_refresh: bool, run_id: str) -> dict:
    with warehouse.connect(db) as raw:
        con = TimedConnection(raw)
        ctx = ModelContext(con=con, settings=Settings(), run_id=run_id, full_refresh=full_refresh)
        started = time.perf_counter()
        results = build(ctx, graph, nodes)
        wall = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"build failed: {failed[0].error}")
    return {"wall": wall, "duckdb": con.seconds, "bookkeeping": con.bookkeeping, "statements": con.statements,
            "unchanged": sum(r.status == "unchanged" for r in results), "results": results}


def graph_load_seconds(settings: Settings, cache_dir: Path, *, cold: bool) -> float:
    import os

    import newsetl.models as models

    os.environ["NEWSETL_CACHE_DIR"] = str(cache_dir)
    if cold:
        shutil.rmtree(cache_dir, ignore_errors=True)
    models._LOADED.clear()
    models._CACHE = models._ParseCache()
    started = time.perf_counter()
    load_graph(settings.sql_dir, settings.reference_dir)
    return time.perf_counter() - started


def ingest_new(db: Path, source: Path) -> int:
    """The day's new files, read as `newsetl run` reads them; returns the number of new articles."""
    from newsetl.ingest import ingest

    with warehouse.connect(db) as con:
        return ingest(con, Settings().with_(sources=(source,)), "bench-daily").articles_new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a built warehouse (e.g. 5,000 articles)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--new-source", type=Path, help="new files for the daily-run case (e.g. a 50-article corpus)")
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db}: no such warehouse (build one with `newsetl run --source ... --db ...`)")

    settings = Settings()
    work = Path(tempfile.mkdtemp(prefix="newsetl-overhead-"))
    db = work / "bench.duckdb"
    shutil.copyfile(args.db, db)
    cold = graph_load_seconds(settings, work / "cache", cold=True)
    warm = graph_load_seconds(settings, work / "cache", cold=False)
    graph = load_graph(settings.sql_dir, settings.reference_dir)
    nodes = [n for n in graph.order if graph.models[n].kind in (*SQL_KINDS, "seed", "source")]
    statements = direct_statements(graph, nodes)
    with warehouse.connect(db) as con:
        articles = warehouse.scalar(con, "select count(*) from raw.articles")

    runs_direct, runs_runner = [], []
    run_runner(db, graph, nodes, full_refresh=True, run_id="warmup")  # fill caches; state for the no-op run
    for i in range(args.repeat):
        order = (("direct", "runner") if i % 2 == 0 else ("runner", "direct"))
        for which in order:
            if which == "direct":
                runs_direct.append(run_direct(db, statements))
            else:
                runs_runner.append(run_runner(db, graph, nodes, full_refresh=True, run_id=f"full{i}"))
    noop = run_runner(db, graph, nodes, full_refresh=False, run_id="noop")

    # Within one runner build: Python time and bookkeeping statements, against that build's wall time.
    # Across builds, the machine's noise (other processes) is larger than the overhead measured:
    # the direct comparison pairs each direct run with the runner run next to it and takes the median.
    pick = sorted(runs_runner, key=lambda r: r["wall"])[len(runs_runner) // 2]
    python_side = pick["wall"] - pick["duckdb"]
    overhead = python_side + pick["bookkeeping"]
    paired = sorted(r["wall"] - d for r, d in zip(runs_runner, runs_direct, strict=True))
    direct = statistics.median(runs_direct)
    report = {
        "warehouse": str(args.db), "articles": articles, "nodes": len(nodes), "sql_statements": len(statements),
        "runner_seconds": round(pick["wall"], 4),
        "runner_duckdb_seconds": round(pick["duckdb"], 4),
        "runner_statements": pick["statements"],
        "overhead_python_seconds": round(python_side, 4),
        "overhead_bookkeeping_seconds": round(pick["bookkeeping"], 4),
        "overhead_seconds": round(overhead, 4),
        "overhead_pct": round(100 * overhead / pick["wall"], 2),
        "direct_seconds_median": round(direct, 4),
        "paired_runner_minus_direct_median": round(statistics.median(paired), 4),
        "paired_pct_of_direct": round(100 * statistics.median(paired) / direct, 2),
        "graph_load_cold_seconds": round(cold, 4), "graph_load_warm_seconds": round(warm, 4),
        "overhead_with_warm_graph_load_pct": round(100 * (overhead + warm) / (pick["wall"] + warm), 2),
        "noop_seconds": round(noop["wall"], 4), "noop_unchanged": noop["unchanged"],
        "all_direct": [round(x, 4) for x in runs_direct], "all_runner": [round(r["wall"], 4) for r in runs_runner],
    }

    if args.new_source:
        # The daily run: the whole graph (Python models too) on a warehouse whose state is current.
        everything = list(graph.order)
        run_runner(db, graph, everything, full_refresh=False, run_id="settle")
        new_articles = ingest_new(db, args.new_source)
        daily = run_runner(db, graph, everything, full_refresh=False, run_id="daily")
        per_model = {r.model: (r.mode, round(r.seconds, 3), r.rows_written) for r in daily["results"]
                     if r.status != "unchanged" and graph.models[r.model].kind != "source"}
        sql_daily = sum(r.seconds for r in daily["results"] if graph.models[r.model].kind in SQL_KINDS)
        sql_full = sum(r.seconds for r in pick["results"] if graph.models[r.model].kind in SQL_KINDS)
        report.update({"daily_new_articles": new_articles, "daily_seconds": round(daily["wall"], 3),
                       "daily_sql_seconds": round(sql_daily, 3), "full_sql_seconds": round(sql_full, 3),
                       "daily_models": per_model})

    shutil.rmtree(work, ignore_errors=True)
    width = max(len(k) for k in report)
    for key, value in report.items():
        if key != "daily_models":
            print(f"{key.ljust(width)}  {value}")
    for name, (mode, seconds, written) in report.get("daily_models", {}).items():
        print(f"  daily  {name.ljust(44)} {mode:<12} {seconds:>8.3f}s  +{written}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "runner_overhead.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
