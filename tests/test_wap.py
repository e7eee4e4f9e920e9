"""Write-audit-publish: a run with a blocking failure exits 1 and the published marts stay exactly as they were.

Each test starts from a copy of the sample warehouse (the conftest's real pipeline run), then runs again with
a corrupted mart model or a test-only suite and compares the published file's marts before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import newsetl
from typer.testing import CliRunner

from newsetl import cli, warehouse
from newsetl.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def marts_fingerprint(db: Path) -> dict[str, str]:
    """A hash of every mart's rows, in a stable order: equal fingerprints mean unchanged marts."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables where "
                                            "table_schema = 'marts' order by 1").fetchall()]
        out = {}
        for table in tables:
            rows = sorted(repr(r) for r in con.execute(f"select * from marts.{table}").fetchall())
            out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest() + f":{len(rows)}"
    return out


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def published(sample_run, tmp_path) -> Path:
    """A published warehouse of its own (no work file yet), copied from the sample run."""
    db = tmp_path / "newsetl.duckdb"
    shutil.copyfile(sample_run[0], db)
    return db


def corrupted_sql(tmp_path: Path) -> Path:
    """sql/ with fct_event_participant emitting every actor twice: its grain check must block."""
    sql = tmp_path / "sql"
    shutil.copytree(Settings().sql_dir, sql)
    model = sql / "marts" / "fct_event_participant.sql"
    text = model.read_text(encoding="utf-8")
    assert text.rstrip().endswith("select * from final")
    model.write_text(text.rstrip() + "\nunion all\nselect * from final where role = 'actor'\n", encoding="utf-8")
    return sql


def suites_with(tmp_path: Path, name: str, expectation: dict) -> Path:
    folder = tmp_path / "expectations"
    shutil.copytree(Settings().expectations_dir, folder)
    doc = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    doc["expectations"].append(expectation)
    (folder / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return folder


# `newsetl run` in its own process (as a user runs it, Prefect flow and all) with the flow's settings
# pointed at a test-only sql/ directory.
RUN_WITH_SQL = """
import sys
from pathlib import Path

import flows.pipeline
from newsetl import cli
from newsetl.config import Settings

settings = Settings(sql_dir=Path(sys.argv[1]))
flows.pipeline.Settings = lambda: settings
sys.argv = ["newsetl", *sys.argv[2:]]
cli.main()
"""


def test_a_corrupted_mart_fails_the_run_and_the_published_marts_keep_serving(published, tmp_path):
    before, inode = marts_fingerprint(published), os.stat(published).st_ino
    participants = query(published, "select count(*) from marts.fct_event_participant")[0][0]
    assert participants > 0
    env = {**os.environ, "COLUMNS": "200", "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    result = subprocess.run([sys.executable, "-c", RUN_WITH_SQL, str(corrupted_sql(tmp_path)), "run", "--db",
                             str(published)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "blocking check(s) failed: marts not published" in result.stderr
    assert "Traceback" not in result.stderr
    # the published file was not swapped, and its marts are exactly what they were
    assert os.stat(published).st_ino == inode
    assert marts_fingerprint(published) == before
    # the bad marts exist only in the work file, where the checks caught them
    work = Settings(db=published).work_db
    assert query(work, "select count(*) from marts.fct_event_participant")[0][0] > participants
    run_id, status, was_published = query(published, "select run_id, status, published from audit.pipeline_runs "
                                                      "order by started_at desc limit 1")[0]
    assert (status, was_published) == ("failed", False)
    failed = query(published, f"select suite, severity from audit.validation_results where run_id = '{run_id}' "
                              "and not success")
    assert ("fct_event_participant", "error") in failed
    page = (published.parent / "reports" / run_id / "index.html").read_text(encoding="utf-8")
    assert "NOT published: blocking checks failed" in page and "fct_event_participant" in page
    # readers of the published file see a warehouse that still passes every blocking check
    check = CliRunner().invoke(cli.app, ["validate", "--db", str(published)], env={"COLUMNS": "200"})
    assert check.exit_code == 0, check.output


def test_a_test_only_critical_suite_blocks_publishing(published, tmp_path, monkeypatch):
    before, inode = marts_fingerprint(published), os.stat(published).st_ino
    strict = suites_with(tmp_path, "dim_entity", {
        "type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 3}, "severity": "critical",
        "description": "test-only: at most 3 entities"})
    monkeypatch.setattr(cli, "Settings", lambda: Settings(expectations_dir=strict))
    result = CliRunner().invoke(cli.app, ["models", "run", "--db", str(published)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "not published (previous marts still served)" in result.output
    assert os.stat(published).st_ino == inode and marts_fingerprint(published) == before
    rows = query(published, "select r.severity, r.observed from audit.validation_results as r join "
                            "audit.pipeline_runs as p using (run_id) where r.expectation like "
                            "'expect_table_row_count_to_be_between(max_value=3)' and p.status = 'failed'")
    assert rows and rows[0][0] == "error" and int(rows[0][1]) > 3


def test_a_failing_warning_does_not_block_publishing(published, tmp_path, monkeypatch):
    inode = os.stat(published).st_ino
    lenient = suites_with(tmp_path, "dim_entity", {
        "type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 3}, "severity": "warning",
        "description": "test-only: at most 3 entities"})
    monkeypatch.setattr(cli, "Settings", lambda: Settings(expectations_dir=lenient))
    result = CliRunner().invoke(cli.app, ["models", "run", "--db", str(published)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert os.stat(published).st_ino != inode  # swapped in: a new file replaced the old one
    run_id, status, was_published = query(published, "select run_id, status, published from audit.pipeline_runs "
                                                      "order by started_at desc limit 1")[0]
    assert (status, was_published) == ("success", True)
    warned = query(published, f"select severity from audit.validation_results where run_id = '{run_id}' "
                              "and not success")
    assert warned and {s for (s,) in warned} == {"warn"}


def test_publishing_swaps_the_file_atomically_and_open_readers_keep_the_old_one(tmp_path):
    work, published = tmp_path / "w.work.duckdb", tmp_path / "w.duckdb"
    for path, rows in ((published, 1), (work, 2)):
        with duckdb.connect(str(path)) as con:
            con.execute(f"create table t as select * from range({rows})")
    with open(published, "rb") as reader:
        old = reader.read()
        reader.seek(0)
        warehouse.publish(work, published)
        assert reader.read() == old  # the reader's file is untouched by the swap
    assert query(published, "select count(*) from t") == [(2,)]
    assert not list(tmp_path.glob("*.publishing"))


def test_the_copy_to_publish_is_taken_while_the_report_is_written_and_dropped_if_the_report_fails(
        published, monkeypatch):
    from newsetl import pipeline as steps

    settings = Settings(db=published)
    write_report, seen = steps.write_report, []

    def report_beside_the_copy(settings, run_id):
        seen.append(settings.work_db in steps._publishing)  # the copy began before the report
        return write_report(settings, run_id)

    monkeypatch.setattr(steps, "write_report", report_beside_the_copy)
    summary = steps.run_models(settings.with_(select=("marts.dim_article",)))
    assert summary.status == "success" and summary.published and seen == [True]
    assert marts_fingerprint(published) == marts_fingerprint(settings.work_db)  # the copy was of the final file
    assert query(published, f"select status from audit.pipeline_runs where run_id = '{summary.run_id}'") == \
        [("success",)]

    before, inode = marts_fingerprint(published), os.stat(published).st_ino
    with duckdb.connect(str(settings.work_db)) as con:
        con.execute("delete from marts.dim_article where article_id in (select article_id from marts.dim_article "
                    "limit 1)")  # the next build puts it back: a different file, were it published

    def broken_report(settings, run_id):
        raise RuntimeError("the report broke")

    monkeypatch.setattr(steps, "write_report", broken_report)
    with pytest.raises(RuntimeError, match="the report broke"):
        steps.run_models(settings.with_(select=("marts.fct_event",)))
    assert os.stat(published).st_ino == inode and marts_fingerprint(published) == before
    assert not list(published.parent.glob("*.publishing")) and not steps._publishing


def test_a_resident_process_publishes_its_work_file_itself_and_copies_it_back_while_it_waits(tmp_path):
    # `newsetl watch`: no ~0.6 s copy inside the run; the copy the next run writes to is taken between runs
    from newsetl import pipeline as steps

    settings = Settings(db=tmp_path / "w.duckdb")
    for path, rows in ((settings.db, 1), (settings.work_db, 2)):
        with duckdb.connect(str(path)) as con:
            con.execute(f"create table t as select * from range({rows})")
    with open(settings.db, "rb") as reader:
        old = reader.read()
        reader.seek(0)
        warehouse.publish(settings.work_db, settings.db, move=True)
        assert reader.read() == old  # a reader of the old file keeps it, as with a copy
    assert query(settings.db, "select count(*) from t") == [(2,)]
    assert not settings.work_db.exists()

    wal = tmp_path / "x.work.duckdb.wal"
    for path in (tmp_path / "x.work.duckdb", wal):
        path.write_bytes(b"x")
    warehouse.publish(tmp_path / "x.work.duckdb", tmp_path / "x.duckdb", move=True)
    assert (tmp_path / "x.work.duckdb").exists() and wal.exists()  # a log belongs to its file: copied instead

    steps.record_timings(settings, "r1", {"publish": 0.1})
    assert not settings.work_db.exists()  # no empty work file made in passing

    try:
        steps.between_runs(settings)
    finally:
        steps.stop_resident_analysis()
    assert query(settings.work_db, "select count(*) from t") == [(2,)]
    with duckdb.connect(str(settings.work_db)) as con:
        con.execute("insert into t values (7)")  # the next run writes its copy, not the published file
    assert query(settings.db, "select count(*) from t") == [(2,)]


def _hold_for_writing(db: Path, seconds: float) -> subprocess.Popen:
    """Another process that opens `db` to write (as a run recording its timings does) and keeps it `seconds`."""
    script = ("import sys, time, duckdb\n"
              "con = duckdb.connect(sys.argv[1])\n"
              "print('held', flush=True)\n"
              "time.sleep(float(sys.argv[2]))\n"
              "con.close()\n")
    holder = subprocess.Popen([sys.executable, "-c", script, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_reader_waits_out_a_brief_write_into_the_published_file(tmp_path):
    db = tmp_path / "newsetl.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table t as select 42 as answer")
    holder = _hold_for_writing(db, 1.0)
    try:
        with pytest.raises(duckdb.IOException, match="Could not set lock"):
            duckdb.connect(str(db), read_only=True)  # what a reader met before
        with warehouse.connect(db, read_only=True) as con:
            assert con.execute("select answer from t").fetchall() == [(42,)]
    finally:
        holder.wait(30)
    holder = _hold_for_writing(db, 30)
    try:  # a writer that keeps the file is still an error, after the wait
        with pytest.raises(duckdb.IOException, match="Could not set lock"):
            warehouse.connect(db, read_only=True, wait_seconds=0.5)
    finally:
        holder.kill()
        holder.wait(30)


def tear_first_block(db: Path) -> None:
    """Rewrite half of DuckDB's first block (at 12288, after the headers) as a write cut short leaves it."""
    with open(db, "r+b") as fh:
        fh.seek(12288 + 64)
        fh.write(b"\xff" * 4096)


def test_a_work_file_torn_by_a_killed_write_is_set_aside_and_the_next_run_starts_from_the_published_one(
        published):
    # SIGKILL can cut DuckDB's write of a block short (the kernel stops a write at a page boundary): a run killed
    # while it checkpointed its work file left one that no later run could open
    work = Settings(db=published).work_db
    shutil.copyfile(published, work)
    tear_first_block(work)
    assert "Corrupt database file" in warehouse.torn(work)
    before = marts_fingerprint(published)

    rerun = newsetl("run", "--db", str(published))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    told = next(line for line in rerun.stderr.splitlines() if "did not open" in line)
    aside = sorted(published.parent.glob("newsetl.work.duckdb.torn-*"))
    assert len(aside) == 1 and aside[0].name in told and str(published) in told
    assert "Traceback" not in rerun.stderr
    assert warehouse.torn(aside[0])  # kept as it was, for whoever wants to look
    assert warehouse.torn(work) is None  # the new work file opens
    assert marts_fingerprint(published) == before  # the same sources: the same marts
    assert query(published, "select status from audit.pipeline_runs order by started_at desc limit 1") == [("success",)]


def test_a_published_file_torn_by_a_killed_write_is_published_again_by_the_next_run(published):
    # a run writes its history into the published file after publishing; killed then, it can tear that file, and
    # a run with nothing new would otherwise leave it so ('the file already holds these marts')
    assert newsetl("run", "--db", str(published)).returncode == 0  # the work file, as the published one's source
    before = marts_fingerprint(published)
    tear_first_block(published)
    assert warehouse.torn(published)

    rerun = newsetl("run", "--db", str(published))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "unchanged since run" not in rerun.stderr and f"published {published}" in rerun.stderr
    assert warehouse.torn(published) is None
    assert marts_fingerprint(published) == before
