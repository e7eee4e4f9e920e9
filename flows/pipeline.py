"""The Prefect flow `pipeline`: ingest -> build models in DAG order -> validate -> publish.

Thin wiring over newsetl.pipeline. Tasks are coarse (one per step or model) and take
paths and plain values. Without PREFECT_API_URL the flow runs on a temporary local
server; with it, runs report to that server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from newsetl import checks
from newsetl import pipeline as steps
from newsetl.config import Settings
from newsetl.pipeline import RunSummary

ANALYSIS = "intermediate.int_sentences"  # the model whose batches go to the analysis workers


@task(name="ingest", cache_policy=NO_CACHE)
def read_articles(settings: Settings, run_id: str) -> dict:
    return steps.ingest_step(settings, run_id, progress=_say)


@task(name="analyse-batch", task_run_name="analyse {label}", cache_policy=NO_CACHE, retries=1,
      retry_delay_seconds=2)
def analyse_batch(fn: Callable, batch: list, label: str = "batch"):
    """One batch of the CPU-heavy analysis; on Dask it runs on a worker (a lost worker is retried)."""
    return fn(batch)


def _map_on_task_runner(fn: Callable, batches: list) -> list:
    futures = [analyse_batch.submit(fn, batch, label=f"{i + 1}/{len(batches)}") for i, batch in enumerate(batches)]
    results = []
    for i, future in enumerate(futures):
        results.append(future.result())
        _say(f"cluster: batch {i + 1}/{len(batches)} done", transient=True)
    return results


@task(name="build-models", task_run_name="build {label}", cache_policy=NO_CACHE)
def build_models(settings: Settings, run_id: str, names: list[str], label: str, distributed: bool = False):
    models = steps.graph_for(settings).models  # parsed once per process

    def told(result) -> None:
        # a failure is told once, by the flow; the models skipped after it are not built at all
        if result.ok and models[result.model].kind not in ("source", "seed"):
            _say(result.summary())

    map_batches = _map_on_task_runner if distributed else steps.map_on_local_workers(settings)
    return steps.build_step(settings, run_id, names, map_batches=map_batches, on_model=told,
                            on_progress=lambda message: _say(message, transient=True))


def stretches(graph, names: list[str]) -> list[list[str]]:
    """The models each build task takes, in DAG order: a Python model alone (long, chunked, worth its own
    task run), the SQL models and seeds between two of them together. One task and one connection per
    model cost ~60 ms each, 2-3 s a run, mostly to say 'unchanged'."""
    out: list[list[str]] = []
    for name in names:
        alone = graph.models[name].kind == "python"
        if alone or not out or graph.models[out[-1][-1]].kind == "python":
            out.append([name])
        else:
            out[-1].append(name)
    return out


@task(name="validate", cache_policy=NO_CACHE)
def validate_warehouse(settings: Settings, run_id: str):
    return steps.validate_step(settings, run_id)


@task(name="publish", cache_policy=NO_CACHE)
def publish_warehouse(settings: Settings) -> None:
    steps.publish_step(settings)


# Progress goes to whoever called the flow in this process (the CLI); scheduled runs log instead.
_progress: ContextVar[Callable[..., None] | None] = ContextVar("newsetl_progress", default=None)


def _say(message: str, transient: bool = False) -> None:
    hook = _progress.get()
    if hook is not None:
        hook(message, transient)
    elif not transient:
        get_run_logger().info(message)


@contextmanager
def progress(hook: Callable[..., None]) -> Iterator[None]:
    """Send the flow's progress lines (message, transient) to `hook` while the block runs."""
    token = _progress.set(hook)
    try:
        yield
    finally:
        _progress.reset(token)


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """Flow runs called in this block send no heartbeats, unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY asks for them.

    A heartbeat tells a server that a run in some other process still lives. Runs called here share their
    process with the caller, and their server is, unless PREFECT_API_URL names one, this process's child:
    both end with it, and audit.pipeline_runs records a run that never finished. Prefect's engine also joins
    its heartbeat thread at the end of each run, and that thread sleeps in 1 s steps: up to 1 s of a run
    that found a few new files (0.4-0.9 s measured).
    """
    if any(name in os.environ for name in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@flow(name="pipeline", log_prints=False, validate_parameters=False)
def pipeline(
    sources: list[str] | None = None,
    db: str | None = None,
    full_refresh: bool = False,
    select: list[str] | None = None,
    distributed: bool = False,
    wait_seconds: float = 0.0,
) -> RunSummary:
    """Ingest the sources into the warehouse, build the models, check them and publish the marts.

    `distributed` sends the analysis batches to the flow's task runner (a Dask cluster with
    `newsetl run --task-runner dask`) instead of analysing in this process.
    """
    settings = Settings()
    if sources:
        settings = settings.with_(sources=tuple(Path(s) for s in sources))
    if db:
        settings = settings.with_(db=Path(db))
    settings = settings.with_(full_refresh=full_refresh, select=tuple(select or ()))
    with steps.warehouse.writer_lock(settings.lock_path, wait_seconds=wait_seconds):
        return run_pipeline(settings, flow_run_id=str(flow_run.get_id() or ""), distributed=distributed)


def run_pipeline(settings: Settings, *, flow_run_id: str | None = None, distributed: bool = False) -> RunSummary:
    with steps.holding_work_db(settings):  # released after an ingest that found many new articles
        return _run(settings, flow_run_id, distributed)


def _run(settings: Settings, flow_run_id: str | None, distributed: bool) -> RunSummary:
    run_id = steps.new_run_id()
    summary = RunSummary(run_id=run_id)
    clock = steps.Stopwatch()
    steps.start_run(settings, run_id, _say, flow_run_id)
    graph = steps.graph_for(settings)
    _say(f"run {run_id}: reading {', '.join(map(str, settings.sources))}")
    with clock("ingest"):
        stats = read_articles(settings, run_id)
    summary.articles_new, summary.quarantined_new = stats["articles_new"], stats["quarantined_new"]
    summary.files_seen = stats["files_seen"]
    _say(f"ingest: {stats['files_seen']} files ({stats['files_unchanged']} unchanged), "
         f"{stats['articles_new']} new articles, {stats['quarantined_new']} quarantined")
    if stats["articles_new"] > settings.stream_articles:
        steps.release_work_db()  # each step opens the file again, and DuckDB's cache goes with each
    names = graph.select(settings.select) if settings.select else graph.order
    # A few new articles: the workers load their analyzers (~4 s) while the articles are cleaned. For many,
    # those seconds count for little, and idle workers would hold ~0.5 GB each through the cleaning.
    few_new = 0 < stats["articles_new"] <= settings.stream_articles and not distributed and ANALYSIS in names
    if few_new:
        steps.start_local_analysis(settings, texts=stats["articles_new"])
    else:
        steps.drop_early_analysis()  # nothing new to analyse, or more than its one worker can take
    with clock("models"):
        try:
            for stretch in stretches(graph, names):
                if few_new and ANALYSIS in stretch:
                    # the checks will run (new rows); while this thread waits for the analysis workers,
                    # Great Expectations loads on the core they leave free
                    checks.preload()
                label = stretch[0] if len(stretch) == 1 else f"{stretch[0]} and {len(stretch) - 1} more"
                failed = next((r for r in build_models(settings, run_id, stretch, label, distributed=distributed)
                               if not r.ok and r.status != "skipped"), None)
                if ANALYSIS in stretch:
                    steps.stop_local_analysis()
                if failed:
                    summary.status, summary.failed_model, summary.message = "error", failed.model, failed.error
                    _say(f"model {failed.model} failed: {failed.error}")
                    break
        finally:
            steps.stop_local_analysis()
    if summary.status != "error":
        check(settings, run_id, summary, clock)
    return steps.conclude(settings, summary, clock, publish=publish_warehouse, say=_say)


def check(settings: Settings, run_id: str, summary: RunSummary, clock: steps.Stopwatch) -> None:
    """Validate the built warehouse, unless nothing the checks depend on has changed since the last
    published run checked it: then its verdict stands (a re-run with no new input)."""
    state, suites = steps.checked_state(settings)
    verdict = None if settings.full_refresh else steps.standing_verdict(settings, state)
    if verdict:
        steps.stand_by(summary, verdict, settings.db)
        _say(f"checks: unchanged since run {verdict['run_id']} ({summary.checks_passed} passed, "
             f"{summary.checks_failed} failed)")
    else:
        with clock("validate"):
            steps.judge(summary, validate_warehouse(settings, run_id))
        _say(f"checks: {summary.checks_passed} passed, {summary.checks_failed} failed "
             f"({summary.blocking_failures} blocking)")
    if summary.status == "success":
        steps.record_checked_state(settings, run_id, state, suites, checked_by=summary.standing or run_id)
