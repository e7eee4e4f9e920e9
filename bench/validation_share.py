"""How much of a pipeline run validation takes on a large warehouse (target: at most 15%).

    python3 ../shared/corpus/make_corpus.py /tmp/c5k_v --articles 5000
    uv run newsetl run --source /tmp/c5k_v/raw --db /tmp/c5k_v.duckdb
    uv run python bench/validation_share.py --db /tmp/c5k_v.duckdb

The run's wall time and its own validate stage come from audit.pipeline_runs (timings, when the run
recorded them) and audit.validation_suites. The warehouse is then validated again the ways a user
would: `newsetl validate` in a fresh process (Python start, imports and GX included), and in this
process once GX is loaded (best of --repeat). Prints a table and one JSON line; exit 1 over the target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 0.15


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True,
                        help="a warehouse built by `newsetl run` (or its .work file when the run did not publish)")
    parser.add_argument("--repeat", type=int, default=3, help="in-process validations to time")
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db}: no such warehouse")

    from newsetl import checks, warehouse
    from newsetl.config import Settings
    from newsetl.models import load_graph

    settings = Settings(db=args.db)
    with warehouse.connect(args.db, read_only=True) as con:
        run = con.execute("""select run_id, epoch(finished_at) - epoch(started_at), articles_new, timings
                             from audit.pipeline_runs
                             where status in ('success', 'failed') and articles_new > 0
                             order by started_at desc limit 1""").fetchall()
        if not run:
            print(f"{args.db}: no finished run that ingested articles", file=sys.stderr)
            return 2
        run_id, run_seconds, articles_new, timings = run[0]
        timings = json.loads(timings) if timings else {}
        suites = con.execute("select sum(seconds), count(*) from audit.validation_suites where run_id = ?",
                             [run_id]).fetchall() if warehouse.table_exists(con, "audit.validation_suites") else []
        sizes = {t: warehouse.scalar(con, f"select count(*) from {t}") for t in
                 ("marts.dim_article", "marts.fct_entity_mention", "marts.fct_event", "marts.fct_event_participant")
                 if warehouse.table_exists(con, t)}

    started = time.perf_counter()
    cli = subprocess.run([sys.executable, "-m", "newsetl.cli", "validate", "--db", str(args.db)], cwd=ROOT,
                         capture_output=True, text=True)
    cold = time.perf_counter() - started
    if cli.returncode not in (0, 1):
        print(cli.stderr.strip().splitlines()[-1] if cli.stderr.strip() else "newsetl validate failed",
              file=sys.stderr)
        return 2

    graph = load_graph(settings.sql_dir, settings.reference_dir)
    views = [n for n in graph.order if graph.models[n].schema == "checks"]
    warm = []
    with warehouse.connect(args.db, read_only=True) as con:
        checks.validate(con, settings.expectations_dir, views)  # GX imported and warmed up
        for _ in range(args.repeat):
            started = time.perf_counter()
            results = checks.validate(con, settings.expectations_dir, views)
            warm.append(time.perf_counter() - started)
    in_run = timings.get("validate")
    figures = {
        "db": str(args.db), "run_id": run_id, "articles_new": articles_new, "rows": sizes,
        "run_seconds": round(run_seconds, 1),
        "run_validate_seconds": None if in_run is None else round(in_run, 2),
        "run_suite_seconds": round(suites[0][0], 2) if suites and suites[0][0] is not None else None,
        "cli_validate_seconds": round(cold, 2), "warm_validate_seconds": round(min(warm), 2),
        "warm_validate_median": round(statistics.median(warm), 2), "checks": len(results),
    }
    worst = max(v for v in (in_run, cold) if v is not None)
    figures["share"] = round(worst / run_seconds, 4)
    figures["within_target"] = figures["share"] <= TARGET
    rows = [("pipeline run (wall)", run_seconds), ("validate stage inside that run", in_run),
            ("  of which suites (sum)", figures["run_suite_seconds"]),
            ("`newsetl validate`, fresh process", cold), ("validate, GX loaded (best)", min(warm))]
    print(f"{args.db}: {articles_new} articles, {len(results)} checks; rows {sizes}")
    for label, seconds in rows:
        share = "" if seconds is None else f"{seconds / run_seconds:7.1%}"
        print(f"  {label:<36} {'-' if seconds is None else f'{seconds:8.1f}s'} {share}")
    print(f"  share (worst of the two): {figures['share']:.1%} (target <= {TARGET:.0%})")
    print(json.dumps(figures))
    return 0 if figures["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
