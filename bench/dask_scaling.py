"""Dask scale-out: the analysis stage on a LocalCluster of one worker process, then of two.

Usage (from the project root):
    uv run python bench/dask_scaling.py [--articles 3000] [--local] [--per-core] [--workers 1 2] [--workdir /tmp/newsetl-dask-bench]

Each run is a fresh `newsetl run --task-runner dask --dask-workers N` on the same generated corpus
(../shared/corpus/make_corpus.py); the figure compared is the build time of the analysis model
(intermediate.int_sentences, from audit.model_runs), whose batches run on the workers. Each worker
runs kiwi with one thread, but that thread runs beside the worker's Python thread, so one worker
uses ~1.6 cores. --per-core also times the analysis alone with each worker held to one core, its
analyzer loaded first (the loading is timed apart): the scaling per core that a cluster of N one-core
workers would see; and kiwi's own tokenize of the same batches on those workers, the ceiling that
the machine sets (the workers share its memory bus and last-level cache). Writes
bench/results/dask-scaling.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from run import generate  # noqa: E402

STAGES = ("intermediate.int_articles__cleaned", "intermediate.int_sentences", "intermediate.int_event_candidates")


def fresh_cache(folder: Path) -> str:
    """An empty folder for what newsetl keeps between runs (NEWSETL_CACHE_DIR): each measurement starts as on
    a new machine, and none finds the recognizer's context look-ups that the one before it computed."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return str(folder)


def one_run(raw: Path, db: Path, workers: int) -> dict:
    """A fresh run on `workers` Dask worker processes (0: the local task runner, analysis in this process)."""
    for stale in db.parent.glob(db.stem + "*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    runner = ["--task-runner", "dask", "--dask-workers", str(workers)] if workers else ["--task-runner", "local"]
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", "NEWSETL_CACHE_DIR": fresh_cache(db.parent / "cache")}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "newsetl.cli", "run", "--source", str(raw), "--db", str(db), *runner],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"newsetl run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    with duckdb.connect(str(db), read_only=True) as con:
        seconds = dict(con.execute("select model, seconds from audit.model_runs where status = 'success'").fetchall())
        chars = con.execute("select sum(length(text)) from intermediate.int_sentences").fetchall()[0][0]
    return {"workers": workers or "local", "wall_s": round(wall, 1), "analysed_chars": chars,
            **{name.split(".")[1]: round(seconds[name], 1) for name in STAGES}}


def _pin(core: int) -> list[int]:
    """Keep every thread of this worker process (kiwi's included) on one core."""
    for tid in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(tid), {core})
    return sorted(os.sched_getaffinity(0))


def per_core(db: Path, counts: list[int]) -> list[dict]:
    """The analysis on its own (no flow, no writes): the same batches on LocalClusters of N workers, each
    worker held to one core. Unpinned, one worker already uses ~1.6 cores (kiwi analyses in its own thread
    while Python reads the entities), so '2 workers vs 1' on a 2-core machine would compare 2 cores to 1.6."""
    from functools import partial

    from dask.distributed import Client, LocalCluster

    from newsetl import analysis
    from newsetl.config import Settings

    with duckdb.connect(str(db), read_only=True) as con:
        items = con.execute("select text_sha, any_value(analysed_text) from intermediate.int_articles__deduplicated "
                            "where duplicate_of is null group by text_sha order by text_sha").fetchall()
    size = Settings().batch_articles
    batches = [items[i:i + size] for i in range(0, len(items), size)]
    fn = partial(analysis.analyse_batch, reference_dir=str(Settings().reference_dir))
    out = []
    for n in counts:
        cache = fresh_cache(db.parent.parent / f"per-core-cache-{n}")
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                          env={"NEWSETL_KIWI_THREADS": "1", "NEWSETL_CACHE_DIR": cache}) as cluster, Client(cluster) as client:
            for core, worker in enumerate(sorted(client.scheduler_info()["workers"])):
                client.run(_pin, core % (os.cpu_count() or 1), workers=[worker])
            # the analyzers load first (~3 s per worker, side by side): a fixed cost that shrinks the speed-up
            # of a short run, not that of a backfill, so it is timed apart
            started = time.perf_counter()
            client.run(fn, [("warm-up", "준비.")])
            run = {"workers": n, "cores": n, "load_s": round(time.perf_counter() - started, 1)}
            started = time.perf_counter()
            client.gather(client.map(fn, batches, pure=False))
            run["analysis_s"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            client.gather(client.map(_tokenize_only, batches, pure=False))
            run["kiwi_tokenize_s"] = round(time.perf_counter() - started, 1)
            out.append(run)
        print(f"{n} worker(s), one core each: loading {run['load_s']} s, analysis {run['analysis_s']} s, "
              f"kiwi tokenize alone {run['kiwi_tokenize_s']} s", file=sys.stderr)
    for run in out:
        for key, name in (("analysis_s", "speedup"), ("kiwi_tokenize_s", "kiwi_speedup")):
            run[name] = round(out[0][key] / run[key], 2)
    return out


def _tokenize_only(batch: list[tuple[str, str]]) -> int:
    """kiwi's own tokenize of a batch and nothing else: how far this machine lets kiwi itself scale, the
    ceiling of the analysis's speed-up (two processes share the memory bus and the last-level cache)."""
    from newsetl import nlp

    for _ in nlp.kiwi().tokenize([text for _, text in batch]):
        pass
    return len(batch)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="worker counts to compare; the first is the base of the speed-up")
    ap.add_argument("--local", action="store_true", help="also time the local task runner (kiwi's own threads)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/newsetl-dask-bench"))
    ap.add_argument("--per-core", action="store_true",
                    help="also time the analysis alone on workers held to one core each (Linux)")
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    raw = generate(a.workdir / f"corpus-{a.articles}-s{a.seed}", a.articles, a.seed)
    runs = []
    for workers in a.workers:
        runs.append(one_run(raw, a.workdir / f"w{workers}" / "newsetl.duckdb", workers))
        print(f"{workers} worker(s): analysis {runs[-1]['int_sentences']} s, wall {runs[-1]['wall_s']} s", file=sys.stderr)
    if a.local:
        runs.append(one_run(raw, a.workdir / "local" / "newsetl.duckdb", 0))
        print(f"local: analysis {runs[-1]['int_sentences']} s, wall {runs[-1]['wall_s']} s", file=sys.stderr)
    base = runs[0]["int_sentences"]
    for run in runs:
        run["analysis_speedup"] = round(base / run["int_sentences"], 2)
    result = {"articles": a.articles, "cpus": os.cpu_count(), "runs": runs}
    if a.per_core:
        result["per_core"] = per_core(a.workdir / f"w{a.workers[0]}" / "newsetl.duckdb", a.workers)
    out = ROOT / "bench" / "results" / "dask-scaling.json"
    out.parent.mkdir(parents=True, exist_ok=True)  # not in a fresh clone: results are not committed
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\n{'workers':>8}{'analysis s':>12}{'speed-up':>10}{'cleaning s':>12}{'events s':>10}{'wall s':>9}")
    for run in runs:
        print(f"{run['workers']:>8}{run['int_sentences']:>12}{run['analysis_speedup']:>10}"
              f"{run['int_articles__cleaned']:>12}{run['int_event_candidates']:>10}{run['wall_s']:>9}")
    for run in result.get("per_core", []):
        print(f"one core per worker, analyzers loaded: {run['workers']} worker(s) {run['analysis_s']} s, speed-up "
              f"{run['speedup']}; kiwi tokenize alone {run['kiwi_tokenize_s']} s, speed-up {run['kiwi_speedup']}")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
