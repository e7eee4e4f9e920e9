"""The newsetl command line: a thin layer over the library; each command's docstring is its --help.

Exit codes: 0 success (warnings allowed), 1 a blocking check failed (marts not published),
2 bad usage or input that cannot be read, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from newsetl.config import Settings

app = typer.Typer(
    help="newsetl: Korean news articles into a checked DuckDB warehouse of entities and events.\n\n"
         "Example: newsetl run && newsetl query \"select * from marts.fct_event limit 5\"",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Inspect, document and build the model graph (sql/, Python models, seeds).",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")
err = Console(stderr=True)
out = Console()

DbOption = Annotated[Path | None, typer.Option("--db", help="Warehouse file \\[default: warehouse/newsetl.duckdb or NEWSETL_DB].")]


def _settings(db: Path | None) -> Settings:
    settings = Settings()
    return settings.with_(db=db) if db else settings


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def _quiet_prefect(verbose: bool) -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    # The temporary server shares a SQLite file per PREFECT_HOME; under load it needs more than the 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _published(db: Path):
    from newsetl import warehouse

    if not db.exists():
        _fail(f"{db}: no warehouse yet; run `newsetl run` first")
    try:
        return warehouse.connect(db, read_only=True)
    except Exception as exc:  # noqa: BLE001
        _fail(f"{db}: cannot open the warehouse: {str(exc).splitlines()[0]}")


@app.command()
def run(
    source: Annotated[list[Path] | None, typer.Option("--source", help="File or folder to read (repeatable) \\[default: seeds/articles].")] = None,
    db: DbOption = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Re-read every file and rebuild every model.")] = False,
    select: Annotated[list[str] | None, typer.Option("--select", help="Models to build: name, +name, name+, tag:x.")] = None,
    task_runner: Annotated[str, typer.Option("--task-runner", help="Where the analysis runs: local (this process) or dask.")] = "local",
    dask_address: Annotated[str | None, typer.Option("--dask-address", help="HOST:PORT of an existing Dask scheduler \\[default: a LocalCluster].")] = None,
    dask_workers: Annotated[int | None, typer.Option("--dask-workers", help="Worker processes of the LocalCluster \\[default: CPU count].")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for another run on this warehouse to finish.")] = 0.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")] = False,
) -> None:
    """Run the pipeline: ingest the sources, build the models, check them, publish the marts.

    Examples:

        newsetl run

        newsetl run --source /data/landing/2025-10-29 --db /data/newsetl.duckdb

        newsetl run --source /data/backfill --task-runner dask --dask-address 10.0.0.5:8786
    """
    _quiet_prefect(verbose)
    if task_runner not in ("local", "dask"):
        _fail(f"--task-runner {task_runner}: use local or dask")
    if dask_address and task_runner != "dask":
        _fail("--dask-address needs --task-runner dask")
    settings = _with_sources(_settings(db), source)
    settings = settings.with_(full_refresh=full_refresh, select=tuple(select or ()))
    from newsetl.prefect_server import ServerError, answering, booting_prefect_api

    stop = _StopRequests()
    signal.signal(signal.SIGINT, stop.request)
    try:
        # The Prefect server boots on the other core while the project loads (~4 s each); the run waits for it,
        # so it starts before this process imports anything more (DuckDB and the checks: ~0.13 s).
        with booting_prefect_api(ui=False, wait_for_stop=False) as server_ready:
            from newsetl.collector import loading_libraries

            # The ~370k objects of the libraries imported here live as long as the process: loaded with the
            # garbage collector paused, then set aside, they no longer make every full collection of the run
            # walk them (~0.23 s each).
            with loading_libraries():
                from newsetl import checks, warehouse

                _check_project(settings)
                from newsetl import pipeline as steps

            # a few new files: their analyzer loads during the boot too
            with steps.analysis_started_early(settings, task_runner == "local") as files:
                with loading_libraries():
                    import flows.pipeline  # noqa: F401 - Prefect's import (~1.5 s) also overlaps the server's boot
                # With a few new files, their worker is what the run waits for longest: it loads its analyzer
                # beside the server's boot and this process's start, then analyses. Great Expectations loads
                # later, while the flow waits for that worker (flows/pipeline.py), not now on the cores the
                # worker needs (10.6 against 11.0 s, four alternated runs of 84 new articles at 10k).
                if not answering() and not steps.many_to_analyse(files) and not steps.analysing_early():
                    # the server needs ~2.5 s more, and this process would only wait: Great Expectations
                    # loads now, not later (a run with nothing new never uses it, but the wait hides its
                    # import). With many files to read it loads at the checks: its ~0.18 GB would sit
                    # beside the analysis workers' (their peak).
                    checks.preload(now=True)
                with warehouse.writer_lock(settings.lock_path, wait_seconds=wait), _live_progress() as hook:
                    hook("starting the Prefect server", transient=True)
                    server_ready()
                    summary = _run_flow(settings, hook, task_runner, dask_address, dask_workers)
    except (_warehouse_busy(), ServerError) as exc:
        _fail(str(exc))
    except (KeyboardInterrupt, Exception):
        if not stop.received:
            raise
        summary = None
    if stop.received:  # however the interrupt surfaced: a KeyboardInterrupt, 'Query interrupted', a failed model
        err.print("interrupted: the run was stopped; the published warehouse holds the marts of the last run that "
                  "published (newsetl status)", highlight=False, soft_wrap=True)
        raise typer.Exit(130)
    _print_summary(summary, settings)
    if summary.status == "error":
        raise typer.Exit(2 if summary.failed_model is None else 1)
    if summary.status == "failed":
        raise typer.Exit(1)


def _warehouse_busy() -> type[Exception]:
    """The error of a warehouse that another run writes, for an except clause evaluated before `run` may have
    imported the warehouse module (it starts its Prefect server first)."""
    from newsetl.warehouse import WarehouseBusy

    return WarehouseBusy


class _StopRequests:
    """Ctrl-C and SIGTERM as KeyboardInterrupt, remembered: one that lands inside a DuckDB query comes back
    as DuckDB's own 'Query interrupted' error, or as a failed model, and the command must stop all the same.
    Prefect's own account of the interrupted run (a crash, with tracebacks) is not shown: the command says it."""

    def __init__(self) -> None:
        self.received = False

    def request(self, signum, frame) -> None:
        self.note()
        raise KeyboardInterrupt

    def note(self) -> bool:
        """Remember a request without raising it; whether it is the first."""
        if self.received:
            return False
        self.received = True
        # asyncio and websockets too: a signal that lands in a connection's handshake (serve, just started)
        # leaves asyncio to log the torn connection's callback, with a traceback, after the command said it stopped
        quiet = ("prefect", "asyncio", "websockets")
        children = tuple(q + "." for q in quiet)
        for name in [*quiet, *logging.root.manager.loggerDict]:
            if name in quiet or name.startswith(children):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        return True


def _with_sources(settings: Settings, source: list[Path] | None) -> Settings:
    """The settings reading `source` (when given) instead of the default sources; a missing one is exit 2."""
    if not source:
        return settings
    missing = [s for s in source if not s.exists()]
    if missing:
        _fail(f"{missing[0]}: no such file or folder")
    return settings.with_(sources=tuple(source))


def _check_project(settings: Settings) -> None:
    """Models, selection and suites are read before anything is written: a typo is exit 2 in seconds,
    not a failed run after the analysis."""
    from newsetl.checks import SuiteError, load_suites
    from newsetl.models import ModelError
    from newsetl.pipeline import graph_for, suites_checked_before

    try:
        graph = graph_for(settings)
        if settings.select:
            graph.select(settings.select)
        if not suites_checked_before(settings):  # else these very files passed GX's loading before (~3 s)
            load_suites(settings.expectations_dir)
    except (ModelError, SuiteError) as exc:
        _fail(str(exc))


def _run_flow(settings: Settings, hook, task_runner: str, dask_address: str | None, dask_workers: int | None):
    from flows.pipeline import pipeline, progress, without_heartbeats

    params = dict(sources=[str(s) for s in settings.sources], db=str(settings.db),
                  full_refresh=settings.full_refresh, select=list(settings.select))
    flow = pipeline
    if task_runner != "local":
        from prefect_dask import DaskTaskRunner

        # Dask workers report their task runs to the same Prefect server as the flow (PREFECT_API_URL).
        # One analyzer thread per worker process: the workers, not kiwi's thread pool, share out the cores.
        runner = DaskTaskRunner(address=dask_address) if dask_address else DaskTaskRunner(
            cluster_kwargs={"n_workers": dask_workers or os.cpu_count() or 1, "threads_per_worker": 1,
                            "processes": True, "dashboard_address": None,
                            "env": {"NEWSETL_KIWI_THREADS": os.environ.get("NEWSETL_KIWI_THREADS", "1")}})
        flow, params = pipeline.with_options(task_runner=runner), {**params, "distributed": True}
    with progress(hook), without_heartbeats():
        return flow(**params)


class _live_progress:
    """Progress lines on stderr; transient ones (batch counters) only on a terminal, as one updating line."""

    def __enter__(self):
        self.status = err.status("starting", spinner="dots") if err.is_terminal else None
        if self.status:
            self.status.start()
        return self.hook

    def hook(self, message: str, transient: bool = False) -> None:
        if transient:
            if self.status:
                self.status.update(message)
            return
        err.print(f"[dim]·[/dim] {message}", highlight=False, soft_wrap=True)

    def __exit__(self, *exc) -> None:
        if self.status:
            self.status.stop()


def _print_summary(summary, settings: Settings) -> None:
    c = summary.counts
    table = Table(title=f"newsetl run {summary.run_id}: {summary.status}", show_header=False)
    for label, value in (
        ("articles in (new)", summary.articles_new), ("quarantined (new)", summary.quarantined_new),
        ("articles in warehouse", c.get("marts.dim_article")), ("entities", c.get("marts.dim_entity")),
        ("entity mentions", c.get("marts.fct_entity_mention")), ("events", c.get("marts.fct_event")),
        ("checks passed / failed", f"{summary.checks_passed} / {summary.checks_failed}"
                                   f" ({summary.blocking_failures} blocking)"),
        ("published", f"{settings.db}" if summary.published else "no (previous marts still served)"),
        ("report", summary.report_path),
    ):
        table.add_row(label, str(value))
    out.print(table)
    if summary.message:
        err.print(f"[red]{summary.message}[/red]" if summary.status != "success" else summary.message,
                  highlight=False, soft_wrap=True)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the published warehouse (read-only).")],
    db: DbOption = None,
    format: Annotated[str, typer.Option("--format", help="table (rows as records when too wide for the terminal), records, csv, json or parquet.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write to this file instead of the terminal.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown in table format.")] = 50,
) -> None:
    """Query the published marts; the connection is read-only, so a write is refused (exit 2).

    Examples:

        newsetl query "select event_type, count(*) from marts.fct_event group by 1"

        newsetl query "select * from marts.dim_entity" --format csv --output entities.csv

        newsetl query "select * from marts.fct_event limit 3" --format records
    """
    if format not in ("table", "records", "csv", "json", "parquet"):
        _fail(f"--format {format}: use table, records, csv, json or parquet")
    if format == "parquet" and not output:
        _fail("--format parquet needs --output FILE")
    import duckdb

    con = _published(_settings(db).db)
    try:
        rel = con.sql(sql)
        if rel is None:
            _fail("the statement returned no rows to show (only queries are allowed)")
        frame = rel.pl()
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        if "read-only" in message.lower():
            _fail(f"refused: newsetl query is read-only ({message})")
        _fail(message)
    if format in ("table", "records"):
        console = Console(file=output.open("w", encoding="utf-8"), width=200) if output else out
        shown = frame.head(limit)
        table = _result_table(shown) if format == "table" else None
        if table is None or _too_wide(console, table):
            table = _result_records(shown)
        console.print(table)
        if not output and frame.height > limit:
            err.print(f"({frame.height} rows, {limit} shown; --limit N or --format csv for all)")
        return
    if format == "parquet":
        frame.write_parquet(output)
    elif format == "csv":
        text = _flat(frame).write_csv()
        output.write_text(text, encoding="utf-8") if output else sys.stdout.write(text)
    else:
        lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in frame.iter_rows(named=True))
        output.write_text(lines, encoding="utf-8") if output else sys.stdout.write(lines)


def _result_table(frame) -> Table:
    table = Table(*frame.columns, show_lines=False)
    for row in frame.iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def _too_wide(console: Console, table: Table) -> bool:
    """Whether the table, at its natural width, overflows the console: squeezed, a wide result (a mart's
    eighteen columns at 80 characters) showed little more than one character and an ellipsis per cell."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update_width(10**6), table).maximum > console.width


def _result_records(frame) -> Table:
    """The rows one below the other, a line per column (psql's expanded display): every value whole."""
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for i, row in enumerate(frame.iter_rows(named=True), start=1):
        table.add_row(f"-[ row {i} ]", "")
        for name, value in row.items():
            table.add_row(name, "" if value is None else str(value))
    return table


def _flat(frame):
    """The frame with its list and struct columns (aliases, participants) as JSON text: CSV has no nested
    values, and JSON is how --format json writes them too."""
    import polars as pl

    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.Series(name, [None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                         for v in frame[name].to_list()], dtype=pl.String)
        for name in nested) if nested else frame


@app.command()
def extract(
    input: Annotated[Path, typer.Option("--input", help="UTF-8 text file, one text per line.")],
    format: Annotated[str, typer.Option("--format", help="jsonl or table.")] = "jsonl",
) -> None:
    """Typed entity mentions with character offsets, one result per input line.

    Example:

        echo "안덕근 산업부 장관이 지나 러몬도 미국 상무부 장관과 만났다." > s.txt && newsetl extract --input s.txt
    """
    if format not in ("jsonl", "table"):
        _fail(f"--format {format}: use jsonl or table")
    if not input.exists():
        _fail(f"{input}: no such file")
    try:
        lines = input.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        _fail(f"{input}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    if lines and lines[-1] == "":
        lines.pop()
    from newsetl.extract import extract_lines

    results = extract_lines(lines, Settings().reference_dir)
    if format == "jsonl":
        for i, mentions in enumerate(results):
            sys.stdout.write(json.dumps({"line": i, "mentions": mentions}, ensure_ascii=False) + "\n")
        return
    table = Table("line", "start", "end", "text", "type")
    for i, mentions in enumerate(results):
        for m in mentions:
            table.add_row(str(i), str(m["start"]), str(m["end"]), m["text"], m["type"])
    out.print(table)


def _models(call):
    """Run an introspection call; a model file that cannot be read is one line, exit 2."""
    from newsetl.models import ModelError

    try:
        return call()
    except ModelError as exc:
        _fail(str(exc))


@models_app.command("list")
def models_list(db: DbOption = None) -> None:
    """Every model in DAG order with its kind, tags, last build and rows.

    Example: newsetl models list
    """
    from newsetl.introspect import models_table

    out.print(_models(lambda: models_table(_settings(db))))


@models_app.command("show")
def models_show(name: Annotated[str, typer.Argument(help="Model name, e.g. marts.fct_event or fct_event.")],
                db: DbOption = None) -> None:
    """A model's config, file, inputs, columns and types (declared and built), row count and SQL.

    Example: newsetl models show fct_event
    """
    from newsetl.introspect import show_model

    out.print(_models(lambda: show_model(_settings(db), name)), highlight=False, markup=False, soft_wrap=True)


@models_app.command("lineage")
def models_lineage(
    name: Annotated[str, typer.Argument(help="Model name.")],
    column: Annotated[str | None, typer.Option("--column", help="Trace one column back to its source columns.")] = None,
    db: DbOption = None,
) -> None:
    """Upstream and downstream models of one model, or where one of its columns comes from.

    Examples:

        newsetl models lineage dim_entity

        newsetl models lineage dim_entity --column name
    """
    from newsetl import introspect

    settings = _settings(db)
    if column:
        text = _models(lambda: introspect.render_tree(introspect.column_lineage(settings, name, column)))
    else:
        text = _models(lambda: introspect.lineage(settings, name))
    out.print(text, highlight=False, markup=False, soft_wrap=True)


@models_app.command("docs")
def models_docs(
    db: DbOption = None,
    output: Annotated[Path | None, typer.Option("--output", help="HTML file [default: reports/models.html beside the warehouse].")] = None,
) -> None:
    """Write one self-contained HTML page documenting every model: descriptions, columns, lineage graph.

    Example: newsetl models docs --output models.html
    """
    from newsetl.docs import write_docs

    settings = _settings(db)
    path = _models(lambda: write_docs(settings, output or settings.reports_dir / "models.html"))
    out.print(f"wrote {path}", highlight=False)


@models_app.command("run")
def models_run(
    select: Annotated[list[str] | None, typer.Option("--select", "-s", help="Models to build: name, +name, name+, tag:x (repeatable) [default: all].")] = None,
    db: DbOption = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild the selected models from scratch, changed or not.")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for another run on this warehouse to finish.")] = 0.0,
) -> None:
    """Build models without ingesting, then check and publish (like `newsetl run`, minus ingest and Prefect).

    Unchanged models are skipped; incremental ones add only new rows. A failing model stops
    the build, names its file and line, and leaves the published marts as they were (exit 1).

    Examples:

        newsetl models run --select dim_article+

        newsetl models run --select tag:events --select +fct_event --full-refresh
    """
    from newsetl import warehouse
    from newsetl.pipeline import run_models

    settings = _settings(db).with_(full_refresh=full_refresh, select=tuple(select or ()))
    _check_project(settings)

    def say(message: str) -> None:
        err.print(f"· {message}", highlight=False, markup=False, soft_wrap=True)

    try:
        with warehouse.writer_lock(settings.lock_path, wait_seconds=wait):
            summary = run_models(settings, on_progress=say)
    except warehouse.WarehouseBusy as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - a failure outside any model is still one line, not a traceback
        from newsetl.runner import describe_exception

        _fail(describe_exception(exc), code=1)
    published = f"published {settings.db}" if summary.published else "not published (previous marts still served)"
    out.print(f"models run {summary.run_id}: {summary.status}; checks {summary.checks_passed} passed, "
              f"{summary.checks_failed} failed ({summary.blocking_failures} blocking); {published}",
              highlight=False, markup=False)
    if summary.status != "success":
        if summary.message:
            err.print(summary.message, highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def validate(db: DbOption = None) -> None:
    """Re-check the published warehouse with every suite and rule view; exit 1 when a blocking check fails.

    Read-only: it records nothing (each run records its own checks in audit.validation_results).
    A suite file that does not load is one line naming it, exit 2.

    Example: newsetl validate --db /data/newsetl.duckdb
    """
    from newsetl import checks
    from newsetl.models import ModelError
    from newsetl.pipeline import graph_for

    settings = _settings(db)
    try:
        graph = graph_for(settings)
        checks.load_suites(settings.expectations_dir)
    except (ModelError, checks.SuiteError) as exc:
        _fail(str(exc))
    rule_views = [n for n in graph.order if graph.models[n].schema == "checks"]
    # closed here, not by the garbage collector: another connection to the file in this process (a notebook,
    # a test) may open it with other settings right after
    with _published(settings.db) as con:
        results = [dict(vars(r)) for r in checks.validate(con, settings.expectations_dir, rule_views)]
    blocking = _print_checks(results, title=f"validate {settings.db}")
    if blocking:
        raise typer.Exit(1)


def _print_checks(rows: list[dict], *, title: str) -> int:
    """Per-suite counts, then every failed check with its examples; returns the number of blocking failures."""
    from newsetl.report import suite_summary

    summary = suite_summary(rows)
    table = Table(title=escape(title))
    for name in ("suite", "model", "checks", "passed", "warnings", "blocking"):
        table.add_column(name, overflow="fold")
    for s in summary:
        table.add_row(escape(s["suite"]), escape(s["model"] or ""), str(s["checks"]), str(s["passed"]),
                      f"[yellow]{s['warnings']}[/yellow]" if s["warnings"] else "0",
                      f"[red]{s['blocking']}[/red]" if s["blocking"] else "0")
    out.print(table)
    failed = sorted((r for r in rows if not r["success"]), key=lambda r: r["severity"] != "error")
    if failed:
        fails = Table(title="failed checks", show_lines=True)
        for name in ("suite", "check", "severity", "observed", "examples"):
            fails.add_column(name, overflow="fold")
        for r in failed:
            check = (r.get("description") + "\n" if r.get("description") else "") + r["expectation"]
            fails.add_row(escape(r["suite"]), escape(check),
                          "[red]critical[/red]" if r["severity"] == "error" else "[yellow]warning[/yellow]",
                          escape(str(r["observed"] or "")[:80]), escape((r["sample"] or "")[:160]))
        out.print(fails)
    blocking = sum(s["blocking"] for s in summary)
    out.print(f"{sum(s['passed'] for s in summary)} passed, {len(failed)} failed ({blocking} blocking)")
    return blocking


@app.command()
def report(db: DbOption = None,
           run_id: Annotated[str | None, typer.Option("--run", help="Run id (default: the latest run).")] = None) -> None:
    """The validation summary of a run and the path of its HTML report (rewritten if it was deleted).

    The page (reports/<run_id>/index.html next to the database; reports/latest/ for the newest run)
    needs no network: summary, failures with examples, quarantine, timeline, entities, network, trend.

    Examples:

        newsetl report

        newsetl report --run 20251029T120000-a1b2c3
    """
    from newsetl import report as reports

    settings = _settings(db)
    con = _published(settings.db)
    rid = run_id or reports.latest_run_id(con)
    if rid is None:
        _fail(f"{settings.db}: no runs yet")
    info = reports.run_info(con, rid)
    if "status" not in info:
        _fail(f"no run {rid} in {settings.db} (newsetl status lists the runs)")
    published = "published" if info.get("published") else "not published"
    out.print(f"run {escape(rid)}: {escape(str(info['status']))}, {published}, started "
              f"{str(info.get('started_at'))[:19]}", highlight=False)
    if info.get("message"):
        out.print(escape(str(info["message"])), highlight=False)
    _print_checks(reports.results(con, rid), title=f"checks of run {rid}")
    page = settings.reports_dir / rid / "index.html"
    if not page.exists():
        page = reports.write(con, settings.reports_dir, rid, latest=False)
        err.print("(the HTML report was missing: rewritten from the warehouse)")
    out.print(f"report: {page}", highlight=False, soft_wrap=True)


@app.command()
def status(db: DbOption = None,
           limit: Annotated[int, typer.Option("--limit", help="How many runs to show.")] = 10) -> None:
    """Recent runs, newest first, and what the published marts hold.

    Example: newsetl status
    """
    settings = _settings(db)
    con = _published(settings.db)
    rows = con.execute("""select run_id, started_at, finished_at, status, articles_new, quarantined_new,
                                 checks_failed, published
                          from audit.pipeline_runs order by started_at desc limit ?""", [limit]).fetchall()
    # Eight columns in 80 characters: without vertical rules, each value shows whole (a run id to copy for
    # `newsetl report --run`, a status), the date and time on two lines; only long headers are cut short.
    right = {"justify": "right", "min_width": 3}
    table = Table(Column("run", no_wrap=True), Column("started", min_width=10),
                  Column("seconds", **right), Column("status", no_wrap=True), Column("new articles", **right),
                  Column("quarantined", **right), Column("checks failed", **right), Column("published", min_width=3),
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for rid, started, finished, st, new, quarantined, failed, published in rows:
        seconds = f"{(finished - started).total_seconds():.1f}" if finished else "-"
        table.add_row(rid, str(started)[:19], seconds, st, str(new), str(quarantined), str(failed), "yes" if published else "no")
    out.print(table)
    from newsetl.pipeline import counts

    for name, n in counts(con).items():
        out.print(f"{name}: {n} rows")


@app.command()
def serve(
    cron: Annotated[str, typer.Option("--cron", help="Cron schedule (5 fields, server time).")] = "0 * * * *",
    source: Annotated[list[Path] | None, typer.Option("--source", help="File or folder to read on every run (repeatable).")] = None,
    db: DbOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")] = False,
) -> None:
    """Run the pipeline on a schedule until stopped (Ctrl-C or SIGTERM).

    Starts and owns a local Prefect server (its UI shows the runs; the address is printed),
    unless PREFECT_API_URL names one already. Stopping serve stops that server.

    Examples:

        newsetl serve --cron "0 * * * *"

        newsetl serve --cron "*/15 * * * *" --source /data/landing --db /data/newsetl.duckdb
    """
    import asyncio

    _quiet_prefect(verbose)
    stop = _StopRequests()
    signal.signal(signal.SIGINT, stop.request)
    signal.signal(signal.SIGTERM, stop.request)  # until Prefect's runner takes it over (see _serving_runner)
    settings = _settings(db)
    sources = [str(s.resolve()) for s in (source or settings.sources)]
    missing = [s for s in sources if not Path(s).exists()]
    if missing:
        _fail(f"{missing[0]}: no such file or folder")
    if not _valid_cron(cron):
        _fail(f"--cron {cron!r}: not a valid cron expression (five fields, e.g. \"0 * * * *\")")
    from newsetl.prefect_server import ServerError, prefect_api

    settings.db.parent.mkdir(parents=True, exist_ok=True)
    log_path = settings.db.parent / "prefect-server.log"
    try:
        with prefect_api(log_path) as api:
            from flows.pipeline import pipeline

            name = serving_name(settings.db)
            runner = _serving_runner(stop, name)
            runner.add_flow(pipeline, name=name, cron=cron,
                            parameters={"sources": sources, "db": str(settings.db.resolve())})
            err.print(f"serving: pipeline/{name} on {cron!r} -> {settings.db} (Prefect API {api}; UI at "
                      f"{api.removesuffix('/api')}; Ctrl-C stops)", highlight=False, soft_wrap=True)
            asyncio.run(runner.start())
    except ServerError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        pass
    except Exception:
        # as in run: a stop may surface as something else. A SIGTERM while the runner still imported its
        # webserver came out of pydantic's schema building as a SchemaError, with a traceback and exit 1.
        if not stop.received:
            raise
    if stop.received:
        err.print("stopped")


def serving_name(db: Path) -> str:
    """The deployment (and runner) name of `serve` for one warehouse. Every local Prefect server keeps its
    deployments and runs in the same database (PREFECT_HOME), so one name for all would let serve for one
    warehouse take up a run its predecessor for another had scheduled, with that warehouse as parameter."""
    return "newsetl-" + hashlib.sha1(str(db.resolve()).encode()).hexdigest()[:8]


def _serving_runner(stop: _StopRequests, name: str):
    """Prefect's Runner (what `Flow.serve` runs), stopped by Ctrl-C and SIGTERM in order and in one line.

    A first signal asks the runner to stop as its own `stop()` means to: cancel the runs in progress, end
    its loops, pause its schedule. Prefect's SIGTERM handler called that coroutine without awaiting it
    (three lines of RuntimeWarning in serve's log at every service stop) and exited with a run still going;
    and a SIGINT to serve's process alone (`kill -INT`) only cancelled a task of asyncio's, and serve went on.
    A signal while the runner sets itself up stops it once it has; a second signal, or one before the runner
    began setting up, stops serve at once (KeyboardInterrupt)."""
    import asyncio

    from prefect.runner import Runner

    class ServingRunner(Runner):
        loop: asyncio.AbstractEventLoop | None = None
        stop_task: asyncio.Task | None = None  # held here: the loop keeps only a weak reference to a task

        async def start(self, *args, **kwargs) -> None:
            self.loop = asyncio.get_running_loop()
            signal.signal(signal.SIGINT, self.handle_sigterm)
            try:
                await super().start(*args, **kwargs)  # which takes SIGTERM over, to the method below
            finally:
                self.loop = None

        def handle_sigterm(self, signum, frame) -> None:
            if self.loop is not None and stop.note():  # the first signal: stop in order
                self.loop.call_soon_threadsafe(self.begin_stopping)
            else:
                stop.request(signum, frame)  # raises KeyboardInterrupt

        def begin_stopping(self) -> None:
            self.stop_task = asyncio.ensure_future(self.stop_once_started())

        async def stop_once_started(self) -> None:
            # A signal while the runner still sets itself up waits for that: a KeyboardInterrupt raised there
            # would leave the services it had started (its client, event emitter, cancellation observer)
            # unclosed, as tasks for asyncio to cancel at exit. Should the set-up fail, asyncio cancels this.
            while not self.started:
                await asyncio.sleep(0.05)
            await self.astop()

    return ServingRunner(name=name)


def _valid_cron(cron: str) -> bool:
    """Whether Prefect takes `cron` as a schedule, asked in a fresh interpreter: Prefect reads its settings
    once, when first imported, and must not do so in this process before PREFECT_API_URL names the server that
    serve starts. Imported too early, its runner took itself for one on a temporary server ('Cannot schedule
    flows on an ephemeral server'), watched for cancellations at a server that did not exist, and on Ctrl-C
    retried pausing its schedule there for a minute before it stopped."""
    refused = 3  # not 1: that is also any crash of the check itself, which serve then meets and reports in its own words
    check = ("import sys\nfrom prefect.client.schemas.schedules import CronSchedule\n"
             f"try:\n    CronSchedule(cron=sys.argv[1])\nexcept ValueError:\n    sys.exit({refused})\n")
    return subprocess.run([sys.executable, "-c", check, cron], capture_output=True).returncode != refused


@app.command()
def watch(
    source: Annotated[list[Path] | None, typer.Option("--source", help="File or folder to watch and read (repeatable) \\[default: seeds/articles].")] = None,
    db: DbOption = None,
    every: Annotated[float, typer.Option("--every", min=0.1, help="Seconds between looks at the sources.")] = 10.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")] = False,
) -> None:
    """Run the pipeline whenever the sources change, in one resident process, until stopped (Ctrl-C or SIGTERM).

    Each look compares the sources' file names, sizes and modification times with the last run's:
    nothing changed, no run. The process keeps what every `newsetl run` loads again: the Prefect
    server, the project, Great Expectations and one loaded analyzer (~0.5 GB), so a run over a few
    new articles costs their analysis and the checks, not the start-up. Each run is a Prefect flow
    run like `newsetl run`'s (the UI address is printed), with the same checks and publishing.
    A failed run is reported and the watch goes on; it runs again when the sources change.

    Examples:

        newsetl watch --source /data/landing --db /data/newsetl.duckdb

        newsetl watch --every 60
    """
    import time

    _quiet_prefect(verbose)
    stop = _StopRequests()
    signal.signal(signal.SIGINT, stop.request)
    signal.signal(signal.SIGTERM, stop.request)  # a service manager's stop: the same orderly end
    settings = _with_sources(_settings(db), source)
    _check_project(settings)
    from newsetl import checks
    from newsetl import pipeline as steps
    from newsetl.ingest import SourceError, sources_state
    from newsetl.prefect_server import ServerError, prefect_api

    settings.db.parent.mkdir(parents=True, exist_ok=True)
    try:
        with prefect_api(settings.db.parent / "prefect-server.log") as api:
            from newsetl.collector import loading_libraries

            with loading_libraries():  # see run: the libraries' objects live as long as the process
                import flows.pipeline  # noqa: F401
            steps.keep_analysis_warm(settings)
            checks.preload()
            err.print(f"watching {', '.join(map(str, settings.sources))} every {every:g} s -> {settings.db} "
                      f"(Prefect UI at {api.removesuffix('/api')}; Ctrl-C stops)", highlight=False, soft_wrap=True)
            seen = None
            while True:
                try:
                    state = sources_state(list(settings.sources))
                except SourceError as exc:
                    state = str(exc)
                if state != seen:
                    seen = state  # taken before the run: a file that lands during it starts the next one
                    _watched_run(settings, stop)
                    steps.between_runs(settings)
                time.sleep(every)
    except ServerError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        err.print("stopped")
    finally:
        steps.stop_resident_analysis()


def _watched_run(settings: Settings, stop: _StopRequests) -> None:
    """One run of `newsetl watch`, told in one line; a failure is told and the watch goes on."""
    import time

    from newsetl import warehouse

    began = time.perf_counter()
    try:
        with warehouse.writer_lock(settings.lock_path), _live_progress() as hook:
            summary = _run_flow(settings, hook, "local", None, None)
    except warehouse.WarehouseBusy as exc:
        err.print(f"[yellow]skipped: {exc}[/yellow]", highlight=False, soft_wrap=True)
        return
    except Exception as exc:  # noqa: BLE001 - one bad run must not end the watch; the next change runs again
        if stop.received:
            raise KeyboardInterrupt from None
        err.print(f"[red]run failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}[/red]",
                  highlight=False, soft_wrap=True)
        return
    if stop.received:  # the interrupt failed a model instead: the run was stopped, not failed
        raise KeyboardInterrupt
    seconds = time.perf_counter() - began
    published = "published" if summary.published else "not published (previous marts still served)"
    line = (f"run {summary.run_id}: {summary.status}, {summary.articles_new} new articles, "
            f"{summary.quarantined_new} quarantined, checks {summary.checks_passed} passed / "
            f"{summary.checks_failed} failed, {published}, {seconds:.1f} s")
    err.print(line if summary.status == "success" else f"[red]{line}: {summary.message}[/red]",
              highlight=False, soft_wrap=True)


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")],
    source: Annotated[Path, typer.Option("--source", help="Root with one folder or file per day (2025-10-29/, 20251029/, NewsResult_20251029-20251029.xlsx).")] = Path("landing"),
    db: DbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Run days that are already done again.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")] = False,
) -> None:
    """Run the pipeline once per day of a window, in order; resumable.

    Days already done with unchanged input are skipped (unless --force); a day whose files
    changed runs again. Each day is a recorded run; the first failing day stops the backfill.

    Example:

        newsetl backfill --from 2025-01-01 --to 2025-03-31 --source /data/landing
    """
    from datetime import date

    _quiet_prefect(verbose)
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        _fail(f"--from/--to: {exc} (use YYYY-MM-DD)")
    if last < first:
        _fail(f"--to {last} is before --from {first}")
    if not source.is_dir():
        _fail(f"{source}: no such folder")
    settings = _settings(db)
    from newsetl import warehouse
    from newsetl.backfill import backfill as run_backfill
    from newsetl.prefect_server import ServerError, prefect_api

    def say(message: str) -> None:
        err.print(f"[dim]·[/dim] {message}", highlight=False, soft_wrap=True)

    try:
        with warehouse.writer_lock(settings.lock_path), prefect_api(settings.db.parent / "prefect-server.log"):
            from flows.pipeline import pipeline, without_heartbeats

            def run_day(day_settings: Settings):
                with without_heartbeats():
                    return pipeline(sources=[str(s) for s in day_settings.sources], db=str(day_settings.db))

            settings.db.parent.mkdir(parents=True, exist_ok=True)
            results = run_backfill(settings, source.resolve(), first, last, force=force, run_day=run_day, say=say)
    except (warehouse.WarehouseBusy, ServerError) as exc:
        _fail(str(exc))
    table = Table("day", "status", "files", "run")
    for r in results:
        table.add_row(str(r.day), r.status, str(r.files), r.run_id or "")
    out.print(table)
    if any(r.status not in ("success", "skipped", "no_input") for r in results):
        raise typer.Exit(1)


@app.command()
def export(
    output: Annotated[Path, typer.Option("--output", help="Folder to write (one sub-folder per mart).")],
    db: DbOption = None,
    format: Annotated[str, typer.Option("--format", help="Only parquet for now.")] = "parquet",
    partition_by: Annotated[list[str] | None, typer.Option("--partition-by", help="Partition column (repeatable); year and month derive from each mart's date.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty output folder.")] = False,
) -> None:
    """Export the published marts as (hive-partitioned) Parquet for DuckDB, Spark or Trino.

    Example:

        newsetl export --output /data/marts --partition-by year --partition-by event_type
    """
    if format != "parquet":
        _fail(f"--format {format}: only parquet is supported")
    settings = _settings(db)
    if not settings.db.exists():
        _fail(f"{settings.db}: no warehouse yet; run `newsetl run` first")
    from newsetl.export import ExportError, export_marts

    try:
        written = export_marts(settings.db, output, partition_by or [], overwrite=overwrite)
    except ExportError as exc:
        _fail(str(exc))
    table = Table("mart", "rows", "partitioned by")
    for name, info in written.items():
        table.add_row(name, str(info["rows"]), ", ".join(info["partitioned_by"]) or "-")
    out.print(table)
    out.print(f"written to {output}")


# -- entities: review discovered names, promote them into the reference data ------------------
entities_app = typer.Typer(help="Review names the extractor discovered and promote them into seeds/reference.",
                           no_args_is_help=True)
app.add_typer(entities_app, name="entities")


@entities_app.command("review")
def entities_review(
    db: DbOption = None,
    min_articles: Annotated[int, typer.Option("--min-articles", help="Only names reported by at least N articles.")] = 1,
    limit: Annotated[int, typer.Option("--limit", help="How many names to list.")] = 50,
) -> None:
    """Discovered names (not in the reference data), most reported first, with counts and the words around one mention.

    Example: newsetl entities review --min-articles 2
    """
    from newsetl.gazetteer import discovered

    con = _published(_settings(db).db)
    rows = discovered(con, min_articles=min_articles, limit=limit)
    if out.width >= 110:
        table = Table("name", "type", "articles", "mentions", "first seen", "last seen")
        table.add_column("example: the words around it", ratio=1)
        for r in rows:
            table.add_row(r["name"], r["entity_type"], str(r["article_count"]), str(r["mention_count"]),
                          str(r["first_seen"] or ""), str(r["last_seen"] or ""), r["example"] or "")
        out.print(table)
    else:  # a narrow terminal: a table would fold every example into a column of single words
        for r in rows:
            seen = " .. ".join(dict.fromkeys(str(d) for d in (r["first_seen"], r["last_seen"]) if d))
            out.print(f"[bold]{escape(r['name'])}[/bold] {r['entity_type']}: {r['article_count']} articles, "
                      f"{r['mention_count']} mentions{', ' + seen if seen else ''}", highlight=False)
            out.print(f"    {escape(r['example'] or '')}", highlight=False)
    err.print(f"{len(rows)} discovered names; promote one with: newsetl entities promote NAME --type TYPE",
              highlight=False)


@entities_app.command("promote")
def entities_promote(
    name: Annotated[str, typer.Argument(help="The canonical Korean name, e.g. 리엘리먼트테크놀로지스.")],
    type: Annotated[str, typer.Option("--type", help="ORG, PERSON, LOCATION, COMMODITY, TECHNOLOGY or PROGRAM.")],
    name_en: Annotated[str, typer.Option("--name-en", help="English name (also makes the id).")] = "",
    alias: Annotated[list[str] | None, typer.Option("--alias", help="Another surface form (repeatable).")] = None,
    subtype: Annotated[str, typer.Option("--subtype", help="ORG only: company, ministry, agency, ...")] = "company",
    title: Annotated[str, typer.Option("--title", help="PERSON only: the title, e.g. '엔비디아 CEO'.")] = "",
    country: Annotated[str, typer.Option("--country", help="ISO2 code of the country it belongs to.")] = "",
) -> None:
    """Append a reference row for a name to the right seeds/reference CSV; the next run links it.

    Example: newsetl entities promote 리엘리먼트테크놀로지스 --type ORG --name-en "ReElement Technologies" --country US
    """
    from newsetl.gazetteer import CurationError, promote

    extra = {"country": country.upper()} if country else {}
    if type.upper() == "ORG":
        extra["subtype"] = subtype
    if type.upper() == "PERSON":
        if not title:
            _fail("a person needs --title (e.g. --title '산업통상자원부 장관')")
        extra["title"] = title
    try:
        row = promote(Settings().reference_dir, name, type, name_en=name_en, aliases=list(alias or []), extra=extra)
    except CurationError as exc:
        _fail(str(exc))
    out.print(f"added {row['entity_id']} ({row['name']}) to seeds/reference", highlight=False)


def main() -> None:
    # `kill -USR1 <pid>` prints where every thread of a running newsetl is, for a run or a stop that seems stuck
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            err.print(str(exc.code), highlight=False)
    _exit_now(code)


def _exit_now(code: int) -> None:
    """Exit without tearing down every module: with Prefect and Great Expectations loaded, Python's
    own shutdown takes ~1.5 s for nothing. Exit handlers (Prefect's workers, logging) still run,
    and every connection and file is closed by then."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
