"""The Prefect flow `pipeline`: ingest -> build models in DAG order -> validate -> publish.

Thin wiring over newsetl.pipeline. Tasks are coarse (one per step or model) and take
paths and plain values. Without PREFECT_API_URL the flow runs on a temporary local
server; with it, runs report to that server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from newsetl import pipeline as steps
from newsetl.config import Settings
from newsetl.pipeline import RunSummary


@task(name="ingest", cache_policy=NO_CACHE)
def read_articles(settings: Settings, run_id: str) -> dict:
    return steps.ingest_step(settings, run_id)


@task(name="build-model", task_run_name="build {name}", cache_policy=NO_CACHE)
def build_model(settings: Settings, run_id: str, name: str):
    return steps.build_step(settings, run_id, [name])[0]


@task(name="validate", cache_policy=NO_CACHE)
def validate_warehouse(settings: Settings, run_id: str):
    return steps.validate_step(settings, run_id)


@task(name="publish", cache_policy=NO_CACHE)
def publish_warehouse(settings: Settings) -> None:
    steps.publish_step(settings)


@flow(name="pipeline", log_prints=False, validate_parameters=False)
def pipeline(
    sources: list[str] | None = None,
    db: str | None = None,
    full_refresh: bool = False,
    select: list[str] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Ingest the sources into the warehouse, build the models, check them and publish the marts."""
    settings = Settings()
    if sources:
        settings = settings.with_(sources=tuple(Path(s) for s in sources))
    if db:
        settings = settings.with_(db=Path(db))
    settings = settings.with_(full_refresh=full_refresh, select=tuple(select or ()))
    return run_pipeline(settings, on_progress=on_progress, flow_run_id=str(flow_run.get_id() or ""))


def run_pipeline(settings: Settings, *, on_progress: Callable[[str], None] | None = None,
                 flow_run_id: str | None = None) -> RunSummary:
    say = on_progress or (lambda message: None)
    run_id = steps.new_run_id()
    summary = RunSummary(run_id=run_id)
    steps.start_run(settings, run_id, flow_run_id)
    graph = steps.graph_for(settings)
    say(f"run {run_id}: reading {', '.join(map(str, settings.sources))}")
    stats = read_articles(settings, run_id)
    summary.articles_new, summary.quarantined_new = stats["articles_new"], stats["quarantined_new"]
    summary.files_seen = stats["files_seen"]
    say(f"ingest: {stats['files_seen']} files ({stats['files_unchanged']} unchanged), "
        f"{stats['articles_new']} new articles, {stats['quarantined_new']} quarantined")
    names = graph.select(settings.select) if settings.select else graph.order
    for name in names:
        result = build_model(settings, run_id, name)
        if result.status != "success":
            summary.status, summary.failed_model, summary.message = "error", name, result.error
            say(f"model {name} failed: {result.error}")
            break
        if graph.models[name].kind not in ("source", "seed"):
            say(f"built {name} ({result.rows} rows, {result.seconds:.1f}s)")
    if summary.status != "error":
        results = validate_warehouse(settings, run_id)
        summary.checks_passed = sum(r.success for r in results)
        summary.checks_failed = sum(not r.success for r in results)
        summary.blocking_failures = sum(r.blocking for r in results)
        summary.warnings = sum((not r.success) and not r.blocking for r in results)
        say(f"checks: {summary.checks_passed} passed, {summary.checks_failed} failed "
            f"({summary.blocking_failures} blocking)")
        summary.status = "failed" if summary.blocking_failures else "success"
        if summary.blocking_failures:
            summary.message = f"{summary.blocking_failures} blocking check(s) failed: marts not published"
    with steps.warehouse.connect(settings.work_db, read_only=False) as con:
        summary.counts = steps.counts(con)
    summary.published = summary.status == "success"
    steps.finish_run(settings, summary)
    summary.report_path = str(steps.write_report(settings, run_id))
    if summary.published:
        publish_warehouse(settings)
        say(f"published {settings.db}")
    else:
        steps.record_failure_in_published(settings, run_id)
    return summary
