"""The pipeline's steps as plain functions: start, ingest, build, validate, publish, finish.

Each step takes settings and a run id and opens the work warehouse itself (or a cursor of the run's held
connection, see holding_work_db), so the Prefect flow (flows/pipeline.py) can run them as tasks and tests
can call them directly.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import resource
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from newsetl import checks, report, warehouse
from newsetl.analysis import LocalWorkers
from newsetl.config import Settings
from newsetl.ingest import files_to_read, ingest
from newsetl.models import Graph, load_graph
from newsetl.runner import BuildResult, ModelContext, build

MART_COUNTS = ("marts.dim_article", "marts.dim_entity", "marts.fct_entity_mention", "marts.fct_event",
               "marts.fct_event_participant", "marts.fct_event_mention")


@dataclass
class RunSummary:
    run_id: str
    status: str = "running"  # success | failed | error
    articles_new: int = 0
    quarantined_new: int = 0
    files_seen: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    checks_passed: int = 0
    checks_failed: int = 0
    blocking_failures: int = 0
    warnings: int = 0
    published: bool = False
    report_path: str | None = None
    message: str | None = None
    failed_model: str | None = None
    standing: str | None = None  # the run whose checks' verdict this run took over (nothing had changed)


class Stopwatch:
    """Seconds per stage of a run, and the process's peak memory when each ended (audit.pipeline_runs.timings)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, int] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + time.perf_counter() - began, 3)
            self.peak_rss_mb[stage] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KiB on Linux

    def as_dict(self) -> dict:
        return {**self.seconds, "total": round(time.perf_counter() - self.started, 3), "peak_rss_mb": self.peak_rss_mb}


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


# The work file a run holds open (see holding_work_db), and its connection once a step opened it
_held: dict[Path, duckdb.DuckDBPyConnection | None] = {}


@contextmanager
def holding_work_db(settings: Settings) -> Iterator[None]:
    """Open the work file once for the steps run in this block, instead of once per step.

    Opening it and closing it (which checkpoints its log into the file) cost 20-150 ms each time: ~1 s
    of a run that found 84 new files in a 10k-article warehouse, for 25 opens. Each step works on a
    cursor of the one connection instead: a connection of its own to the same database, so its
    transactions and registered frames stay its own. It opens at the first step's use, after
    start_run has made the work file; release_work_db ends it early (before a publish copies the file,
    or after an ingest that found many new articles). DuckDB's cache then lasts for the block.

    Only a work file smaller than DuckDB's memory limit is held (a 10k-article warehouse: 0.3 GB). A
    larger one's steps read more than the cache keeps, and held, the cache only added to the run: at
    100k articles (2.9 GB), 607 new files took 89.9 s against 80.4 s, its peak RSS 1,685 MiB against 1,463.
    """
    _held.clear()
    _held[settings.work_db] = None
    try:
        yield
    finally:
        release_work_db()


def release_work_db() -> None:
    """Close the work file held by holding_work_db, if any; the later steps open it each time again."""
    held = list(_held.values())
    _held.clear()
    for con in held:
        if con is not None:
            con.close()


@contextmanager
def work_connection(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the work file: a cursor of the held one (holding_work_db), or one of its own
    (`read_only` applies to that one: the held one writes)."""
    if settings.work_db in _held and _held[settings.work_db] is None:  # the block's first step
        if warehouse.fits_in_cache(settings.work_db):
            _held[settings.work_db] = warehouse.connect(settings.work_db)
        else:
            release_work_db()  # too large to hold (see holding_work_db): each step opens it
    if settings.work_db not in _held:
        with warehouse.connect(settings.work_db, read_only=read_only) as con:
            yield con
        return
    cursor = _held[settings.work_db].cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def graph_for(settings: Settings) -> Graph:
    return load_graph(settings.sql_dir, settings.reference_dir)


def start_run(settings: Settings, run_id: str, say: Callable[[str], None], flow_run_id: str | None = None) -> None:
    """Open the run in audit.pipeline_runs; `say` tells the user when prepare_work_file set a torn work file aside."""
    told = warehouse.prepare_work_file(settings.db, settings.work_db)
    if told:
        say(told)
    with work_connection(settings) as con:
        warehouse.ensure_schema(con)
        # The writer lock is held, so any run still 'running' was killed: say so instead of leaving it open.
        con.execute("update audit.pipeline_runs set status = 'abandoned', finished_at = coalesce(finished_at, ?), "
                    "message = 'the process stopped before the run finished (killed or crashed)' "
                    "where status = 'running'", [datetime.now()])
        con.execute(
            "insert into audit.pipeline_runs (run_id, started_at, status, flow_run_id, sources) values (?, ?, ?, ?, ?)",
            [run_id, datetime.now(), "running", flow_run_id, json.dumps([str(s) for s in settings.sources])])


def ingest_step(settings: Settings, run_id: str, progress: Callable[..., None] | None = None) -> dict:
    def report_files(seen: int, stats) -> None:
        if progress:
            progress(f"ingest: {seen} files read, {stats.articles_new} new articles so far", True)

    with work_connection(settings) as con:
        stats = ingest(con, settings, run_id, progress=report_files)
    return asdict(stats)


def build_step(settings: Settings, run_id: str, names: list[str], map_batches=None,
               on_model=None, on_progress: Callable[[str], None] | None = None) -> list[BuildResult]:
    graph = graph_for(settings)  # parsed once per process: load_graph keeps it while no file changes
    with work_connection(settings) as con:
        ctx = ModelContext(con=con, settings=settings, run_id=run_id, full_refresh=settings.full_refresh)
        if map_batches is not None:
            ctx.map_batches = map_batches
        if on_progress is not None:
            ctx.progress = on_progress
        results = build(ctx, graph, names, on_model=on_model)
    if any(graph.models[n].kind == "python" for n in names):
        give_back_memory()  # a Python model's frames and rows are gone: return their pages before the next
    return results


_local_workers: LocalWorkers | None = None
TEXTS_PER_WORKER = 1000  # a worker analyses ~150 texts/s; loading its analyzer costs ~4 s of CPU
# Resident mode (`newsetl watch`): one worker stays loaded between runs; a one-run process keeps none
_resident = False
_warm: LocalWorkers | None = None
_early: LocalWorkers | None = None  # `newsetl run`: started before the flow, when a few files were new
_stopping: list[threading.Thread] = []  # lone workers exiting while the run goes on (see stop_local_analysis)


def keep_analysis_warm(settings: Settings) -> None:
    """Resident mode (called between runs): one analysis worker stays loaded (~0.5 GB) for the next run, so
    a run with a few new articles does not wait ~2.5 s for its analyzer. A missing or stale one starts now
    and loads while the process waits."""
    global _resident, _warm
    _resident = True
    if _warm is not None and not _warm.fit():
        _warm.close()
        _warm = None
    if _warm is None:
        _warm = LocalWorkers(1, str(settings.reference_dir))


def between_runs(settings: Settings) -> None:
    """Resident mode, after each run: the next run's analyzer and work file get ready while the process waits.

    A resident run publishes its work file itself (publish_step); the copy the next run starts from is
    taken here, off the clock, unless another process holds the warehouse (its run starts from the
    published file anyway, see prepare_work_file)."""
    keep_analysis_warm(settings)
    try:
        with warehouse.writer_lock(settings.lock_path):
            warehouse.prepare_work_file(settings.db, settings.work_db)
    except warehouse.WarehouseBusy:
        pass


@contextmanager
def analysis_started_early(settings: Settings, wanted: bool = True) -> Iterator[int | None]:
    """`newsetl run`, around its flow: when a few source files are new or changed (or a first run has a few),
    one analysis worker starts now and loads its analyzer (~4 s of CPU) beside the Prefect server's boot and
    this process's imports, not after the ingest, when the run would wait for it; loaded, it reads those files
    and analyses their texts ahead (LocalWorkers.prefetch). The ingest then tells whether the run needs it:
    start_local_analysis adopts it, or drop_early_analysis stops it (the files held nothing new). Unused when
    the block ends (a failed start), it stops then. Gives the number of files to read, when it looked."""
    global _early
    paths = None
    if wanted and _early is None and _local_workers is None and not _resident and not settings.full_refresh:
        held = settings.work_db if settings.work_db.exists() else settings.db
        paths = files_to_read(list(settings.sources), held)
        if paths and len(paths) <= TEXTS_PER_WORKER:
            _early = LocalWorkers(1, str(settings.reference_dir))
            _early.prefetch(paths, settings, limit=TEXTS_PER_WORKER)
    try:
        yield None if paths is None else len(paths)
    finally:
        drop_early_analysis()


def many_to_analyse(files: int | None) -> bool:
    """Whether that many files to read make a run whose analysis takes every core's worker."""
    return files is not None and files > TEXTS_PER_WORKER


def analysing_early() -> bool:
    """Whether analysis_started_early started a worker."""
    return _early is not None


def drop_early_analysis() -> None:
    """Stop a worker that analysis_started_early started and the run did not use, at once: loading, it would
    otherwise take its remaining seconds of CPU from the run."""
    global _early
    if _early is not None:
        early, _early = _early, None
        early.close(now=True)


def start_local_analysis(settings: Settings, texts: int | None = None) -> None:
    """Start the analysis worker processes (see analysis.LocalWorkers) now, so that they load their
    analyzers while this process cleans and deduplicates the new articles: one per core, or fewer
    when only a few `texts` are new (84 new articles do not repay a second analyzer's loading).
    A resident process's loaded worker serves when one is enough."""
    global _local_workers, _warm, _early
    if _local_workers is None:
        workers = settings.workers if texts is None else min(settings.workers, -(-texts // TEXTS_PER_WORKER))
        if _early is not None:
            early, _early = _early, None
            if workers == 1:
                _local_workers = early
                return
            early.close(now=True)  # more workers wanted: they start together
        if _warm is not None and (workers > 1 or not _warm.fit()):
            _warm.close()  # more workers wanted, or an unfit one: its memory goes before theirs comes
            _warm = None
        if _warm is not None:
            _local_workers, _warm = _warm, None
        else:
            _local_workers = LocalWorkers(workers, str(settings.reference_dir))


def map_on_local_workers(settings: Settings) -> Callable[[Callable, list], list]:
    """A model's map_batches on this machine's analysis workers, started on first use."""
    def map_batches(fn: Callable, batches: list) -> list:
        if not batches:
            # the analysis rebuilt with no new text (files removed, only duplicates new): loading analyzers
            # for it cost ~4 s of CPU per worker
            return []
        start_local_analysis(settings)
        _local_workers.stop_prefetch()  # what it analysed ahead serves these batches; the rest is in them
        return _local_workers.map(fn, batches)

    return map_batches


def stop_local_analysis() -> None:
    """Stop the analysis workers: their analyzers' memory goes with them. A resident process keeps a
    run's single worker loaded for the next run."""
    global _local_workers, _warm
    if _local_workers is not None:
        workers, _local_workers = _local_workers, None
        if _resident and _warm is None and workers.workers == 1 and not workers.lost:
            _warm = workers
        elif workers.workers == 1:
            # A lone worker (a run with a few new texts) takes ~0.25 s to exit, which the marts need not wait
            # for. More (a large run's) are waited for, so that their memory is gone before the marts' comes.
            stopping = threading.Thread(target=workers.close, name="newsetl-worker-stop", daemon=True)
            stopping.start()
            _stopping.append(stopping)
            _wait_for_stopping_workers_at_exit()
        else:
            workers.close()


def stopped_workers() -> None:
    """Wait until the workers that stop_local_analysis let exit on their own have exited: at a run's end, and
    at the interpreter's, before multiprocessing's own exit handler closes the queue that their stop signal
    goes through (a run interrupted right after its analysis would otherwise wait for them for ever)."""
    while _stopping:
        _stopping.pop().join()


@functools.cache
def _wait_for_stopping_workers_at_exit() -> None:
    import atexit

    atexit.register(stopped_workers)  # registered after multiprocessing's handler, so it runs before it


def stop_resident_analysis() -> None:
    """Leave resident mode: the loaded worker stops."""
    global _resident, _warm
    _resident = False
    if _warm is not None:
        _warm.close()
        _warm = None


def judge(summary: RunSummary, results: list[checks.CheckResult]) -> None:
    """Fold check results into the run summary: any blocking failure means the run is not published."""
    summary.checks_passed = sum(r.success for r in results)
    summary.checks_failed = sum(not r.success for r in results)
    summary.blocking_failures = sum(r.blocking for r in results)
    summary.warnings = sum((not r.success) and not r.blocking for r in results)
    summary.status = "failed" if summary.blocking_failures else "success"
    if summary.blocking_failures:
        summary.message = f"{summary.blocking_failures} blocking check(s) failed: marts not published"


def suites_fingerprint(expectations_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(expectations_dir.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def checked_state(settings: Settings) -> tuple[str, str]:
    """Fingerprints of what the checks' verdict depends on, and of the suites alone.

    The verdict depends on the data (every model's built state, which changes whenever a model is
    rebuilt from other inputs, and the raw tables' row counts: suites check raw.articles and
    raw.quarantine), on the suites, on their parameters' values today, and on the checking code.
    """
    suites = suites_fingerprint(settings.expectations_dir)
    digest = hashlib.sha256(suites.encode())
    with work_connection(settings, read_only=True) as con:
        for model, state in con.execute("select model, state from audit.model_state order by model").fetchall():
            digest.update(f"{model}={state}\n".encode())
        for table in ("raw.articles", "raw.quarantine"):
            digest.update(f"{table}={warehouse.scalar(con, f'select count(*) from {table}')}\n".encode())
    digest.update(json.dumps(checks.parameters(), sort_keys=True).encode())
    digest.update(Path(checks.__file__).read_bytes())
    digest.update(importlib.metadata.version("great_expectations").encode())
    return digest.hexdigest()[:32], suites


def standing_verdict(settings: Settings, state: str) -> dict | None:
    """The last published run, when its checks judged this very state: nothing has changed since, so
    checking again would only repeat its verdict, and its published marts are these marts.

    Not when the published file no longer opens (warehouse.torn: a run killed while it wrote its history into
    that file): the run then checks and publishes its marts again, which repairs it."""
    with work_connection(settings, read_only=True) as con:
        row = con.execute("""
            select runs.run_id, states.checked_by, runs.checks_passed, runs.checks_failed, runs.blocking_failures
            from audit.pipeline_runs as runs
            inner join audit.checked_states as states on states.run_id = runs.run_id
            where runs.published and states.state = ?
              and runs.run_id = (select run_id from audit.pipeline_runs where published
                                 order by finished_at desc limit 1)
        """, [state]).fetchone()
    if row is None or not settings.db.exists() or warehouse.torn(settings.db):
        return None
    return dict(zip(("run_id", "checked_by", "checks_passed", "checks_failed", "blocking_failures"), row, strict=True))


def stand_by(summary: RunSummary, verdict: dict, db: Path) -> None:
    """Take over a standing verdict (see standing_verdict): the run passes as that one did."""
    summary.checks_passed, summary.checks_failed = verdict["checks_passed"], verdict["checks_failed"]
    summary.blocking_failures, summary.warnings = 0, verdict["checks_failed"]
    summary.status, summary.standing = "success", verdict["checked_by"]
    summary.message = (f"nothing changed since run {verdict['run_id']}: the checks of run {verdict['checked_by']} "
                       f"stand, and {db} already holds these marts")


def record_checked_state(settings: Settings, run_id: str, state: str, suites: str, checked_by: str) -> None:
    with work_connection(settings) as con:
        con.execute("insert into audit.checked_states values (?, ?, ?, ?, ?)",
                    [run_id, state, suites, checked_by, datetime.now()])


def suites_checked_before(settings: Settings) -> bool:
    """Whether these very suite files have been loaded and run by an earlier validation of this warehouse
    (so `newsetl run` need not load Great Expectations, ~3 s, only to check them again)."""
    if not settings.work_db.exists():
        return False
    suites = suites_fingerprint(settings.expectations_dir)
    try:
        with work_connection(settings, read_only=True) as con:
            return bool(warehouse.scalar(con, "select count(*) from audit.checked_states where suites = ?", [suites]))
    except Exception:  # noqa: BLE001 - an older warehouse without the table, or one being written: check them
        return False


def conclude(settings: Settings, summary: RunSummary, clock: Stopwatch, *, publish: Callable[[Settings], None],
             say: Callable[..., None]) -> RunSummary:
    """Count, record and report the run; publish it when it passed, else record it in the published history.

    A run whose checks stand from an earlier one (nothing changed) is recorded in the published file
    without copying it over: the file already holds these marts."""
    with work_connection(settings, read_only=True) as con:
        summary.counts = counts(con)
    summary.published = summary.status == "success"
    publishing = summary.published and not summary.standing
    try:
        with clock("report"):
            finish_run(settings, summary, clock.as_dict())
            if publishing:
                begin_publish(settings)  # the file is final: it is copied while the report is written
            summary.report_path = str(write_report(settings, summary.run_id))
        if publishing:
            with clock("publish"):
                publish(settings)
    finally:
        drop_publish(settings)  # a copy begun and not published (the report or the publish failed)
    if publishing:
        record_timings(settings, summary.run_id, clock.as_dict())
        say(f"published {settings.db}")
    else:
        record_timings(settings, summary.run_id, clock.as_dict())
        record_in_published(settings, summary.run_id)
    stopped_workers()  # long since, as a rule: the marts and the checks took longer
    return summary


def give_back_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the system (glibc's malloc_trim): what a
    large stage freed stays resident otherwise, and the next stage's peak sits on top of it."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused, only not returned
        pass


def validate_step(settings: Settings, run_id: str) -> list[checks.CheckResult]:
    give_back_memory()  # the checks read large frames right after clustering's
    graph = graph_for(settings)
    rule_views = [n for n in graph.order if graph.models[n].schema == "checks"]
    with work_connection(settings) as con:
        results = checks.validate(con, settings.expectations_dir, rule_views)
        checks.record(con, run_id, results)
    return results


def counts(con) -> dict[str, int]:
    return {t: warehouse.scalar(con, f"select count(*) from {t}")
            for t in MART_COUNTS if warehouse.table_exists(con, t)}


def finish_run(settings: Settings, summary: RunSummary, timings: dict | None = None) -> None:
    """Record the run's outcome in the work file (published with it, or copied over on failure)."""
    row = [datetime.now(), summary.status, json.dumps(timings or {}), summary.files_seen, summary.articles_new, summary.quarantined_new,
           json.dumps(summary.counts), summary.checks_passed, summary.checks_failed, summary.blocking_failures,
           summary.published, summary.message, summary.run_id]
    sql = """update audit.pipeline_runs set finished_at = ?, status = ?, timings = ?, files_seen = ?, articles_new = ?,
             quarantined_new = ?, counts = ?, checks_passed = ?, checks_failed = ?, blocking_failures = ?,
             published = ?, message = ? where run_id = ?"""
    with work_connection(settings) as con:
        con.execute(sql, row)
        con.execute("checkpoint")


def record_timings(settings: Settings, run_id: str, timings: dict) -> None:
    """Add the publish time to the run's timings in both files (the published copy was taken before it)."""
    for path in (settings.work_db, settings.db):
        if not path.exists():  # the work file itself was published (resident mode): no empty one in its place
            continue
        try:
            with warehouse.connect(path) as con:
                con.execute("update audit.pipeline_runs set timings = ? where run_id = ?", [json.dumps(timings), run_id])
        except Exception:  # noqa: BLE001 - a reader holding the published file only costs this detail
            pass


def begin_publish(settings: Settings) -> None:
    """Start copying the finished work file for publish_step, which then only waits for the copy and swaps it
    in; the run reads the file meanwhile (its report), and writes it no more."""
    release_work_db()  # checkpointed and closed: the copy is the whole file
    # a resident process publishes the work file itself and copies it back while it waits (see between_runs)
    _publishing[settings.work_db] = warehouse.begin_publish(settings.work_db, settings.db, move=_resident)


def drop_publish(settings: Settings) -> None:
    """Drop the copy that begin_publish started and publish_step did not swap in: the published file stays."""
    finish = _publishing.pop(settings.work_db, None)
    if finish is not None:
        finish(swap=False)


def publish_step(settings: Settings) -> None:
    if settings.work_db not in _publishing:
        begin_publish(settings)
    _publishing.pop(settings.work_db)()


_publishing: dict[Path, Callable[..., None]] = {}  # work file -> the finish of its publish under way


def record_in_published(settings: Settings, run_id: str) -> None:
    """A run that did not copy its file over still shows in the published history (newsetl status)."""
    if not settings.db.exists():
        return
    try:
        with work_connection(settings, read_only=True) as work:
            runs = work.sql("select * from audit.pipeline_runs where run_id = ?", params=[run_id]).to_arrow_table()
            results = work.sql("select * from audit.validation_results where run_id = ?",
                               params=[run_id]).to_arrow_table()
            states = work.sql("select * from audit.checked_states where run_id = ?", params=[run_id]).to_arrow_table()
        with warehouse.connect(settings.db) as pub:
            warehouse.ensure_schema(pub)
            pub.register("_runs", runs)
            pub.register("_results", results)
            pub.register("_states", states)
            pub.execute("insert or replace into audit.pipeline_runs select * from _runs")
            pub.execute("insert into audit.validation_results select * from _results")
            pub.execute("insert into audit.checked_states select * from _states")
    except Exception:  # noqa: BLE001 - a reader holding the file only delays this; the work file keeps it
        pass


def write_report(settings: Settings, run_id: str) -> Path:
    with work_connection(settings, read_only=True) as con:
        return report.write(con, settings.reports_dir, run_id)


def run_models(settings: Settings, *, on_progress=None) -> RunSummary:
    """`newsetl models run`: build the selected models (no ingest), check, publish; no Prefect server.

    The same steps as the `pipeline` flow minus ingest, so iterating on one SQL model costs
    that model's build and the checks, not a flow run's start-up.
    """
    say = on_progress or (lambda message: None)
    run_id = new_run_id()
    summary = RunSummary(run_id=run_id)
    settings = settings.with_(sources=())
    graph = graph_for(settings)
    names = graph.select(settings.select) if settings.select else graph.order
    start_run(settings, run_id, say)
    say(f"run {run_id}: building {len(names)} of {len(graph.order)} models")

    def progress(result: BuildResult) -> None:
        if graph.models[result.model].kind not in ("source", "seed") or not result.ok:
            say(result.summary())

    clock = Stopwatch()
    with clock("models"):
        for result in build_step(settings, run_id, names, on_model=progress):
            if result.status == "error":
                summary.status, summary.failed_model, summary.message = "error", result.model, result.error
    if summary.status != "error":
        with clock("validate"):
            judge(summary, validate_step(settings, run_id))
        say(f"checks: {summary.checks_passed} passed, {summary.checks_failed} failed "
            f"({summary.blocking_failures} blocking)")
        if summary.status == "success":
            record_checked_state(settings, run_id, *checked_state(settings), checked_by=run_id)
    return conclude(settings, summary, clock, publish=publish_step, say=lambda message, *_: say(message))
