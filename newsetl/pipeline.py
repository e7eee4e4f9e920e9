"""The pipeline's steps as plain functions: start, ingest, build, validate, publish, finish.

Each step takes settings and a run id and opens the work warehouse itself, so the
Prefect flow (flows/pipeline.py) can run them as tasks and tests can call them directly.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from newsetl import checks, report, warehouse
from newsetl.config import Settings
from newsetl.ingest import ingest
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


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def graph_for(settings: Settings) -> Graph:
    return load_graph(settings.sql_dir, settings.reference_dir)


def start_run(settings: Settings, run_id: str, flow_run_id: str | None = None) -> None:
    warehouse.prepare_work_file(settings.db, settings.work_db)
    with warehouse.connect(settings.work_db) as con:
        warehouse.ensure_schema(con)
        con.execute(
            "insert into audit.pipeline_runs (run_id, started_at, status, flow_run_id, sources) values (?, ?, ?, ?, ?)",
            [run_id, datetime.now(), "running", flow_run_id, json.dumps([str(s) for s in settings.sources])])


def ingest_step(settings: Settings, run_id: str) -> dict:
    with warehouse.connect(settings.work_db) as con:
        stats = ingest(con, settings, run_id)
    return asdict(stats)


def build_step(settings: Settings, run_id: str, names: list[str], map_batches=None) -> list[BuildResult]:
    graph = graph_for(settings)
    with warehouse.connect(settings.work_db) as con:
        for schema in {graph.models[n].schema for n in names}:
            con.execute(f"create schema if not exists {schema}")
        ctx = ModelContext(con=con, settings=settings, run_id=run_id, full_refresh=settings.full_refresh)
        if map_batches is not None:
            ctx.map_batches = map_batches
        return build(ctx, graph, names)


def validate_step(settings: Settings, run_id: str) -> list[checks.CheckResult]:
    graph = graph_for(settings)
    rule_views = [n for n in graph.order if graph.models[n].schema == "checks"]
    with warehouse.connect(settings.work_db) as con:
        results = checks.validate(con, settings.expectations_dir, rule_views)
        checks.record(con, run_id, results)
    return results


def counts(con) -> dict[str, int]:
    return {t: warehouse.scalar(con, f"select count(*) from {t}")
            for t in MART_COUNTS if warehouse.table_exists(con, t)}


def finish_run(settings: Settings, summary: RunSummary) -> None:
    """Record the run in the work file and, when it published, in the published file too."""
    row = [datetime.now(), summary.status, summary.files_seen, summary.articles_new, summary.quarantined_new,
           json.dumps(summary.counts), summary.checks_passed, summary.checks_failed, summary.blocking_failures,
           summary.published, summary.message, summary.run_id]
    sql = """update audit.pipeline_runs set finished_at = ?, status = ?, files_seen = ?, articles_new = ?,
             quarantined_new = ?, counts = ?, checks_passed = ?, checks_failed = ?, blocking_failures = ?,
             published = ?, message = ? where run_id = ?"""
    with warehouse.connect(settings.work_db) as con:
        con.execute(sql, row)
        con.execute("checkpoint")


def publish_step(settings: Settings) -> None:
    warehouse.publish(settings.work_db, settings.db)


def record_failure_in_published(settings: Settings, run_id: str) -> None:
    """A run that did not publish still shows in the published history (newsetl status)."""
    if not settings.db.exists():
        return
    try:
        with warehouse.connect(settings.work_db, read_only=True) as work:
            runs = work.sql("select * from audit.pipeline_runs where run_id = ?", params=[run_id]).to_arrow_table()
            results = work.sql("select * from audit.validation_results where run_id = ?",
                               params=[run_id]).to_arrow_table()
        with warehouse.connect(settings.db) as pub:
            warehouse.ensure_schema(pub)
            pub.register("_runs", runs)
            pub.register("_results", results)
            pub.execute("insert or replace into audit.pipeline_runs select * from _runs")
            pub.execute("insert into audit.validation_results select * from _results")
    except Exception:  # noqa: BLE001 - a reader holding the file only delays this; the work file keeps it
        pass


def write_report(settings: Settings, run_id: str) -> Path:
    with warehouse.connect(settings.work_db, read_only=True) as con:
        return report.write(con, settings.reports_dir, run_id)
