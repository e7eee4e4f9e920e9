"""End-to-end benchmark: first run, re-run with no new input, run with 1% new articles, kiwi reference.

Usage (from the project root):
    uv run python bench/run.py --articles 10000 [--rounds 2] [--repeat 3] [--workdir /tmp/newsetl-bench] [--task-runner local|dask]

Generates a corpus with ../shared/corpus/make_corpus.py (cached in the workdir), runs
`newsetl run` as a user would (a subprocess), then (local runner) a 1%-new run in a resident
`newsetl watch` process and another cold one beside a Prefect server that is up already (as `newsetl
serve`'s scheduled runs are), and reports per stage and in total:
seconds, articles/s, characters/s and peak memory (RSS of the run's largest process; RSS and PSS of all its
processes together: analysis workers, their fork server and the run's Prefect server); then kiwipiepy's own tokenize throughput
on the same cleaned bodies, on the same cores, as the reference ratio. Prints a table
and writes JSON to bench/results/run-<articles>-<runner>.json.

The kiwi reference is timed right after the first run, on that run's texts: this machine's speed drifts by
10% within minutes (kiwi alone took 73 s and 83 s in two back-to-back benchmarks), so the two are taken as
close together as they can be. `--rounds N` repeats that pair (first run on a fresh warehouse, then kiwi
alone) N times and reports each ratio and their median. `--repeat N` runs the cold runs with no new input and
with 1% new N times each, every one from the same warehouse (a copy taken before the first), and reports the
median: one such run took 20.6 s in one benchmark and 21.0, 23.6 and 24.3 s in the next, on the same code.

newsetl's cache folder (NEWSETL_CACHE_DIR) is the workdir's cache-<articles>, emptied before each first run:
the first run starts as on a new machine, and the runs after it find what it left, as a user's would.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
MAKE_CORPUS = ROOT.parent / "shared" / "corpus" / "make_corpus.py"


def generate(out: Path, articles: int, seed: int) -> Path:
    if not (out / "manifest.jsonl").exists():
        if out.exists():
            shutil.rmtree(out)
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(out), "--articles", str(articles), "--seed", str(seed)],
                       check=True, stdout=subprocess.DEVNULL)
    return out / "raw"


_MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def run_newsetl(args: list[str], workdir: Path) -> tuple[float, int, list[int], str]:
    """Wall seconds, peak RSS (bytes) of the run's largest process, peak RSS and PSS of all its processes
    together (analysis workers and Prefect server included, sampled every 0.2 s), and its stderr tail.

    Each run goes through a small parent process of its own, so the peak is this run's, not the
    largest of every run so far.
    """
    peak_file = workdir / "peak-rss.txt"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _MEASURE, str(peak_file), sys.executable, "-m", "newsetl.cli",
                             "run", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"})
    together = [0, 0]
    sampler = threading.Thread(target=_sample_tree, args=(proc, together), daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"newsetl run failed ({proc.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return wall, int(peak_file.read_text()) * 1024, together, stderr[-2000:]


def _sample_tree(proc: subprocess.Popen, peak: list[int], stop: threading.Event | None = None) -> None:
    """The largest sums over `proc` and its descendants, until it ends or `stop` is set (Linux /proc): of RSS
    in peak[0], of PSS in peak[1]. RSS counts a page that processes share (a fork server's analyzer, the
    libraries) in each of them; PSS divides it among them, so their sum is the memory they take together."""
    page = os.sysconf("SC_PAGE_SIZE")
    while proc.poll() is None and not (stop and stop.is_set()):
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
                except OSError:
                    pass
        rss = pss = 0
        todo = [proc.pid]
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            try:
                rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
                pss += _pss(pid)
            except OSError:
                pass
        peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
        time.sleep(0.2)


def _pss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def stages(db: Path) -> dict:
    """Per-stage seconds of the latest run, from the warehouse's own audit tables."""
    with duckdb.connect(str(db), read_only=True) as con:
        run_id, timings = con.execute("select run_id, timings from audit.pipeline_runs "
                                      "order by started_at desc limit 1").fetchall()[0]
        models = con.execute("select model, seconds from audit.model_runs where run_id = ? and status = 'success'",
                             [run_id]).fetchall()
        chars = con.execute("select coalesce(sum(char_count), 0), count(*) from marts.dim_article").fetchall()[0]
    out = json.loads(timings) if timings else {}
    out["stage_peak_rss_mb"] = out.pop("peak_rss_mb", {})  # the flow process's peak when each stage ended
    out["models_detail"] = {m: round(s, 3) for m, s in models if s and s >= 0.05}
    out["chars_total"], out["articles_total"] = chars
    return out


def reference_texts(db: Path) -> tuple[list[str], int]:
    """Every ingested article's text (title + cleaned body, duplicates included: what a pipeline without
    deduplication would analyse), and the characters of the distinct texts among them."""
    with duckdb.connect(str(db), read_only=True) as con:
        texts = [r[0] for r in con.execute("select analysed_text from intermediate.int_articles__deduplicated").fetchall()]
        distinct_chars = con.execute("select coalesce(sum(length(analysed_text)), 0) from (select distinct text_sha, "
                                     "analysed_text from intermediate.int_articles__deduplicated "
                                     "where duplicate_of is null)").fetchall()[0][0]
    return texts, distinct_chars


def kiwi_reference(texts: list[str], distinct_chars: int, workers: int) -> dict:
    """kiwipiepy tokenize alone on the reference texts, same cores."""
    from kiwipiepy import Kiwi

    kiwi = Kiwi(num_workers=workers)
    kiwi.tokenize("warm up")
    started = time.perf_counter()
    for _ in kiwi.tokenize(texts):
        pass
    seconds = time.perf_counter() - started
    chars = sum(map(len, texts))
    return {"seconds": round(seconds, 2), "texts": len(texts), "chars": chars, "chars_per_s": round(chars / seconds),
            "distinct_chars": distinct_chars, "distinct_seconds_at_same_rate": round(distinct_chars / (chars / seconds), 2)}


def extra_corpus(workdir: Path, articles: int, seed: int) -> Path:
    """Another corpus, for the new articles of a run: 2% of a base of `articles` (at least 200), in a folder of
    its own per size. In one folder for every size, a 100k benchmark took the 141 files of a 10k one's for
    the 840 of its 1%."""
    size = max(200, articles // 50)
    return generate(workdir / f"corpus-extra-s{seed}-{size}", size, seed).parent


NEW_FOLDERS = ("new", "new-resident", "new-server")


def add_new_articles(raw: Path, extra_corpus: Path, share: float, seed: int, folder: str = "new") -> int:
    """Copy `share` of the base corpus size worth of files from another corpus into raw/<folder>/."""
    base_files = sum(1 for p in raw.rglob("*") if p.is_file() and p.parent.name not in NEW_FOLDERS)
    candidates = sorted(p for p in (extra_corpus / "raw" / "txt").rglob("*.txt"))
    random.Random(seed).shuffle(candidates)
    wanted = max(1, int(base_files * share))
    if len(candidates) < wanted:
        sys.exit(f"{extra_corpus} has {len(candidates)} text files, fewer than the {wanted} new articles wanted")
    chosen = candidates[:wanted]
    target = raw / folder
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for i, path in enumerate(chosen):
        shutil.copy(path, target / f"new_{i:05d}_{path.name}")
    return len(chosen)


def resident_run(args: list[str], raw: Path, extra: Path, seed: int, workdir: Path) -> dict:
    """A run with 1% new articles in a resident `newsetl watch` process (looking every 0.5 s): started on
    the warehouse as the cold runs left it, it runs once (nothing new), then 1% new files from `extra` land.
    Wall: from its noticing them to its summary line, as watch reports it; latency: from the files landing."""
    log = workdir / "watch.log"
    proc = subprocess.Popen([sys.executable, "-m", "newsetl.cli", "watch", *args, "--every", "0.5"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"), start_new_session=True,
                            env={**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"})
    try:
        _watch_line(proc, log, 0)
        time.sleep(5)  # its analyzer and Great Expectations load after that run, as they would between runs
        together, stop = [0, 0], threading.Event()
        sampler = threading.Thread(target=_sample_tree, args=(proc, together, stop), daemon=True)
        sampler.start()
        landed = time.perf_counter()
        files = add_new_articles(raw, extra, 0.01, seed, folder=NEW_FOLDERS[1])
        seconds = _watch_line(proc, log, 1)
        latency = time.perf_counter() - landed
        stop.set()
        sampler.join()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)
    return {"new_files": files, "wall_s": seconds, "latency_s": round(latency, 2), "peak_all_processes": together}


def standing_server_run(args: list[str], raw: Path, extra: Path, seed: int, workdir: Path) -> tuple[float, int, list[int]]:
    """A cold `newsetl run` with 1% new articles beside a Prefect server that is up already (PREFECT_API_URL):
    what each scheduled run of `newsetl serve` is (Prefect's runner starts every run as a process of its own),
    and a deployment's run against its standing server. The server is not one of the run's processes.

    A standing server has been up a while and has served runs: one with nothing new goes first, untimed. Timed
    as soon as the server answered, the same cold 1% run took 16.7 s, against 13.9 and 14.1 s on a server up
    for 8 s more (10k articles): it was still busy starting."""
    from newsetl.prefect_server import prefect_api

    with prefect_api(workdir / "standing-server.log", ui=False):
        run_newsetl(args, workdir)
        add_new_articles(raw, extra, 0.01, seed, folder=NEW_FOLDERS[2])
        wall, rss, together, _ = run_newsetl(args, workdir)
    return wall, rss, together


def _watch_line(proc: subprocess.Popen, log: Path, index: int, timeout: float = 600) -> float:
    """Seconds of the watch's `index`-th run, from its summary line, once it is written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = re.findall(r"^run \S+: (\w+), .*, ([\d.]+) s$", log.read_text(errors="replace"), re.M)
        if len(runs) > index:
            if runs[index][0] != "success":
                sys.exit(f"newsetl watch: run {index + 1} ended {runs[index][0]}:\n{log.read_text()[-3000:]}")
            return float(runs[index][1])
        if proc.poll() is not None:
            sys.exit(f"newsetl watch stopped ({proc.returncode}):\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    sys.exit(f"newsetl watch: no run {index + 1} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _warehouse_files(db: Path) -> list[Path]:
    """The warehouse's files: the published and the work file, and their WALs (not the lock)."""
    return [p for p in db.parent.glob(f"{db.stem}.*") if p.is_file() and not p.name.endswith(".lock")]


def _snapshot(db: Path, workdir: Path) -> dict[Path, Path]:
    """Copies of the warehouse's files, to run a small run again from the very state the first one started
    from: {file: its copy}."""
    kept = {}
    for path in _warehouse_files(db):
        kept[path] = workdir / f"snapshot-{path.name}"
        shutil.copy2(path, kept[path])
    os.sync()  # see _restore
    return kept


def _restore(db: Path, kept: dict[Path, Path]) -> None:
    for path in _warehouse_files(db):
        path.unlink()
    for path, copy in kept.items():
        shutil.copy2(copy, path)
    # The copies' ~0.5 GB would still be on their way to the disk when the run publishes, and its fsync would
    # wait behind them: the cold 1% runs' publish took 0.6-0.8 s after a restore, 0.24 s in traced runs.
    os.sync()


def _run_line(wall: float, rss: int, together: list[int]) -> str:
    return (f"{wall:.1f} s, peak RSS {rss / 2**20:.0f} MB (all its processes {together[0] / 2**20:.0f} MB RSS, "
            f"{together[1] / 2**20:.0f} MB PSS)")


def describe(db: Path, wall: float, rss_mb, together: list[int]) -> dict:
    """A run's figures: its stages from the warehouse, its wall time, rates and memory."""
    info = stages(db)
    info.update(wall_s=round(wall, 2), peak_rss_mb=rss_mb, peak_rss_all_processes_mb=round(together[0] / 2**20),
                peak_pss_all_processes_mb=round(together[1] / 2**20),
                articles_per_s=round(info["articles_total"] / wall, 1), chars_per_s=round(info["chars_total"] / wall))
    info["per_stage"] = {stage: {"seconds": info[stage],
                                 "articles_per_s": round(info["articles_total"] / info[stage]) if info[stage] else None,
                                 "chars_per_s": round(info["chars_total"] / info[stage]) if info[stage] else None,
                                 "peak_rss_mb_at_end": info["stage_peak_rss_mb"].get(stage)}
                         for stage in ("ingest", "models", "validate", "report", "publish") if stage in info}
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/newsetl-bench"))
    ap.add_argument("--task-runner", default="local", choices=("local", "dask"))
    ap.add_argument("--keep-db", action="store_true", help="reuse an existing warehouse (skip the first run)")
    ap.add_argument("--repeat", type=int, default=1, help="cold runs with no new input, and with 1%% new, each run "
                                                         "this many times from the same warehouse; the median wall")
    ap.add_argument("--rounds", type=int, default=1, help="first runs (each on a fresh warehouse), each followed by "
                                                          "kiwi alone on its texts; ratios of each and their median")
    a = ap.parse_args()
    workers = os.cpu_count() or 1
    a.workdir.mkdir(parents=True, exist_ok=True)
    raw = generate(a.workdir / f"corpus-{a.articles}-s{a.seed}", a.articles, a.seed)
    for folder in NEW_FOLDERS:
        if (raw / folder).exists():
            shutil.rmtree(raw / folder)
    db = a.workdir / f"bench-{a.articles}.duckdb"
    common = ["--source", str(raw), "--db", str(db), "--task-runner", a.task_runner]
    results = {"articles": a.articles, "cpus": workers, "task_runner": a.task_runner, "runs": {}}
    extra = extra_corpus(a.workdir, a.articles, a.seed + 100)
    # What newsetl keeps between runs (parsed SQL, the recognizer's look-ups in kiwi's language model) starts
    # empty with each first run, as on a new machine, and stays for the runs after it, as on a user's.
    cache = a.workdir / f"cache-{a.articles}"
    os.environ["NEWSETL_CACHE_DIR"] = str(cache)
    rounds = []
    for _round in range(1 if a.keep_db else a.rounds):
        if not a.keep_db:  # each first run on a fresh warehouse
            for stale in a.workdir.glob(f"bench-{a.articles}*"):
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
            shutil.rmtree(cache, ignore_errors=True)
        wall, rss, together, _ = run_newsetl(common, a.workdir)
        results["runs"]["first"] = describe(db, wall, round(rss / 2**20), together)
        # right after the run, on its texts, while the machine is in the same state
        results["kiwi_tokenize"] = kiwi_reference(*reference_texts(db), workers)
        rounds.append({"first_s": round(wall, 2), "kiwi_s": results["kiwi_tokenize"]["seconds"],
                       "first_vs_kiwi": round(wall / results["kiwi_tokenize"]["seconds"], 2)})
        print(f"first: {_run_line(wall, rss, together)}; kiwi alone {results['kiwi_tokenize']['seconds']:.1f} s", file=sys.stderr)
    for label, prepare in (("no_new_input", None), ("one_percent_new", "new")):
        if prepare == "new":
            results["new_files"] = add_new_articles(raw, extra, 0.01, a.seed)
        kept = _snapshot(db, a.workdir) if a.repeat > 1 else {}
        walls = []
        for n in range(a.repeat):
            if n:
                _restore(db, kept)
            wall, rss, together, _ = run_newsetl(common, a.workdir)
            walls.append(round(wall, 2))
            print(f"{label}: {_run_line(wall, rss, together)}", file=sys.stderr)
        # the median wall; stages and memory of the last of the runs
        results["runs"][label] = {**describe(db, statistics.median(walls), round(rss / 2**20), together),
                                  "walls_s": walls}
        for copy in kept.values():
            copy.unlink()
    if a.task_runner == "local":  # right after the cold 1% run, on a machine in the same state
        extra = extra_corpus(a.workdir, a.articles, a.seed + 200)
        resident = resident_run(["--source", str(raw), "--db", str(db)], raw, extra, a.seed, a.workdir)
        info = describe(db, resident["wall_s"], "-", resident.pop("peak_all_processes"))
        results["runs"]["one_percent_new_resident"] = {**info, **resident}
        extra = extra_corpus(a.workdir, a.articles, a.seed + 300)
        wall, rss, together = standing_server_run(common, raw, extra, a.seed, a.workdir)
        results["runs"]["one_percent_new_standing_server"] = describe(db, wall, round(rss / 2**20), together)
        print(f"one_percent_new_standing_server: {_run_line(wall, rss, together)}", file=sys.stderr)
        print(f"one_percent_new_resident: {resident['wall_s']:.1f} s ({resident['latency_s']:.1f} s after the files "
              f"landed), all its processes {info['peak_rss_all_processes_mb']} MB RSS, "
              f"{info['peak_pss_all_processes_mb']} MB PSS", file=sys.stderr)
    first = results["runs"]["first"]
    results["rounds"] = rounds
    results["ratios"] = {
        "first_vs_kiwi": round(first["wall_s"] / results["kiwi_tokenize"]["seconds"], 2),
        "first_vs_kiwi_median_of_rounds": statistics.median(r["first_vs_kiwi"] for r in rounds),
        "first_vs_kiwi_on_distinct_texts": round(first["wall_s"] / results["kiwi_tokenize"]["distinct_seconds_at_same_rate"], 2),
        "analysis_vs_kiwi_on_distinct_texts": round(first["models_detail"].get("intermediate.int_sentences", 0)
                                                    / results["kiwi_tokenize"]["distinct_seconds_at_same_rate"], 2),
        "no_new_vs_first": round(results["runs"]["no_new_input"]["wall_s"] / first["wall_s"], 3),
        "one_percent_vs_first": round(results["runs"]["one_percent_new"]["wall_s"] / first["wall_s"], 3),
    }
    if "one_percent_new_resident" in results["runs"]:
        results["ratios"]["one_percent_resident_vs_first"] = round(
            results["runs"]["one_percent_new_resident"]["wall_s"] / first["wall_s"], 3)
    if "one_percent_new_standing_server" in results["runs"]:
        results["ratios"]["one_percent_standing_server_vs_first"] = round(
            results["runs"]["one_percent_new_standing_server"]["wall_s"] / first["wall_s"], 3)
    out = ROOT / "bench" / "results" / f"run-{a.articles}-{a.task_runner}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\n{'run':<26}{'wall s':>9}{'art/s':>9}{'chars/s':>11}{'RSS MB':>9}{'all RSS':>9}{'all PSS':>9}")
    for label, info in results["runs"].items():
        print(f"{label:<26}{info['wall_s']:>9}{info['articles_per_s']:>9}{info['chars_per_s']:>11}{info['peak_rss_mb']:>9}"
              f"{info['peak_rss_all_processes_mb']:>9}{info['peak_pss_all_processes_mb']:>9}")
        stage_line = ", ".join(f"{k} {v}s" for k, v in info.items() if k in ("startup", "ingest", "models", "validate",
                                                                             "report", "publish"))
        print(f"{'':<26}{stage_line}")
        if len(info.get("walls_s", ())) > 1:
            print(f"{'':<26}median of {', '.join(f'{w} s' for w in info['walls_s'])}")
    k = results["kiwi_tokenize"]
    print(f"kiwi tokenize alone: {k['seconds']} s for {k['chars']} chars ({k['chars_per_s']} chars/s, {workers} threads)")
    if len(rounds) > 1:
        print("rounds (first run, kiwi alone right after it): " + "; ".join(
            f"{r['first_s']} s / {r['kiwi_s']} s = {r['first_vs_kiwi']}" for r in rounds))
    print("ratios: " + ", ".join(f"{k} {v}" for k, v in results["ratios"].items()))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
