"""End to end: the real pipeline (Prefect flow, DuckDB, kiwipiepy, Great Expectations) on the sample."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from conftest import newsetl, query

from flows.pipeline import stretches
from newsetl.config import Settings
from newsetl.pipeline import graph_for


def test_run_publishes_the_five_sample_articles(sample_run):
    db, result = sample_run
    assert query(db, "select count(*) from raw.articles") == [(5,)]
    assert query(db, "select count(*) from marts.dim_article") == [(5,)]
    assert query(db, "select count(*) from raw.quarantine") == [(0,)]
    assert "success" in result.stdout
    assert "published" in result.stdout
    # the run's own Prefect server was up until Prefect had sent its last logs and events
    assert "Error logging to API" not in result.stderr and "Traceback" not in result.stderr
    assert query(db, "select count(*) from audit.pipeline_runs where flow_run_id <> ''") == [(1,)]


def test_prefect_keeps_the_runs_history_with_every_task(sample_run):
    # the run's own server runs only the services that record runs (see prefect_server.RUN_ONLY_IDLE_SERVICES):
    # the flow run and its task runs are still there for the Prefect UI of `newsetl serve`
    import sqlite3

    db, _ = sample_run
    [(flow_run_id,)] = query(db, "select flow_run_id from audit.pipeline_runs")
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    with sqlite3.connect(f"file:{home / 'prefect.db'}?mode=ro", uri=True) as con:
        [(flow, state)] = con.execute("select f.name, r.state_type from flow_run r join flow f on f.id = r.flow_id "
                                      "where r.id = ?", [flow_run_id]).fetchall()
        tasks = con.execute("select name, state_type from task_run where flow_run_id = ?", [flow_run_id]).fetchall()
    assert (flow, state) == ("pipeline", "COMPLETED")
    names = {re.sub(r"-[0-9a-f]{3}$", "", name) for name, _ in tasks}
    assert {"ingest", "validate", "publish", "build intermediate.int_sentences"} <= names
    assert {state for _, state in tasks} == {"COMPLETED"}


def test_sample_mentions_the_four_main_countries(sample_run):
    db, _ = sample_run
    names = {r[0] for r in query(db, """
        select distinct e.name from marts.fct_entity_mention m join marts.dim_entity e using (entity_id)
        where e.entity_type = 'COUNTRY'""")}
    assert {"미국", "한국", "일본", "중국"} <= names


def test_bodies_are_clean(sample_run):
    db, _ = sample_run
    bodies = [r[0] for r in query(db, "select body from marts.dim_article")]
    image_line = re.compile(r"^!\[.*\]\(.*\)$", re.M)
    for body in bodies:
        assert "기사 스크랩" not in body
        assert not image_line.search(body)
        # the samples repeat whole paragraphs; each paragraph is kept once
        lines = [ln for ln in body.split("\n") if len(ln) > 20]
        assert len(lines) == len(set(lines))


def test_publisher_and_date_come_from_the_text_when_metadata_is_missing(sample_run):
    db, _ = sample_run
    rows = dict(query(db, "select regexp_extract(source_path, '[^/]+$'), publisher from marts.dim_article"))
    assert rows["001_ab379a637c36586b.txt"] == "아주경제"  # copyright line
    assert rows["003_e23b0c15238461d9.txt"] == "연합뉴스"  # '/연합뉴스' sign-off
    dated = query(db, """select published_date::varchar, published_date_source from marts.dim_article
                         where source_path like '%004_6aa41a9c697c4b0d.txt'""")
    assert dated == [("2025-10-29", "metadata")]


def test_events_have_evidence_and_participants(sample_run):
    db, _ = sample_run
    assert query(db, "select count(*) > 0 from marts.fct_event") == [(True,)]
    orphans = query(db, """select count(*) from marts.fct_event e
                           where not exists (select 1 from marts.fct_event_mention m where m.event_id = e.event_id)
                              or not exists (select 1 from marts.fct_event_participant p where p.event_id = e.event_id)""")
    assert orphans == [(0,)]
    # the MOU of article 004 is dated by its publication date (29일 -> 2025-10-29)
    mou = query(db, """select e.event_date::varchar from marts.fct_event e join marts.fct_event_mention m using (event_id)
                       where e.event_type = 'AGREE' and m.evidence like '%기술번영 업무협약%'""")
    assert ("2025-10-29",) in mou


def test_every_run_is_audited_and_reported(sample_run):
    db, _ = sample_run
    runs = query(db, "select status, articles_new, published from audit.pipeline_runs")
    assert runs == [("success", 5, True)]
    results = query(db, "select count(*), count(*) filter (where severity = 'error' and not success) "
                        "from audit.validation_results")
    assert results[0][0] > 20 and results[0][1] == 0
    latest = db.parent / "reports" / "latest" / "index.html"
    assert latest.exists() and "newsetl validation report" in latest.read_text(encoding="utf-8")


def test_second_run_adds_nothing_and_keeps_the_first_runs_verdict(sample_run, tmp_path):
    db, _ = sample_run
    before = query(db, "select count(*) from raw.articles")
    entities = query(db, "select count(*) from marts.fct_entity_mention")
    inode = os.stat(db).st_ino
    again = newsetl("run", "--db", str(db))
    assert again.returncode == 0, again.stderr
    assert query(db, "select count(*) from raw.articles") == before
    assert query(db, "select count(*) from marts.fct_entity_mention") == entities
    runs = query(db, "select run_id, status, published, checks_passed, checks_failed from audit.pipeline_runs "
                     "order by started_at")
    assert len(runs) == 2
    (first, *verdict), (second, *repeated) = runs
    if query(db, "select count(distinct cast(started_at as date)) from audit.pipeline_runs") != [(1,)]:
        # midnight passed between the two runs: the checks' dates ('today', 'tomorrow') moved, so the
        # verdict no longer stands and the checks ran again (a suite session that straddled midnight)
        assert query(db, f"select checked_by from audit.checked_states where run_id = '{second}'") == [(second,)]
        assert repeated == verdict and "checks: " in again.stderr
        return
    # nothing changed, so the checks were not run again: the first run's verdict stands, and the
    # published file (which holds these very marts) was not copied over, only told of the run
    assert repeated == verdict and verdict[:2] == ["success", True] and verdict[2] > 20
    assert query(db, f"select count(*) from audit.validation_results where run_id = '{second}'") == [(0,)]
    assert query(db, f"select checked_by from audit.checked_states where run_id = '{second}'") == [(first,)]
    assert os.stat(db).st_ino == inode
    assert f"the checks of run {first} stand" in again.stderr


def test_the_checked_state_moves_with_the_data_and_the_suites(sample_run, tmp_path):
    import shutil

    import duckdb

    from newsetl.pipeline import checked_state

    db, _ = sample_run
    work = tmp_path / "w.work.duckdb"
    shutil.copy(Settings(db=db).work_db, work)
    settings = Settings(db=tmp_path / "w.duckdb")
    state, suites = checked_state(settings)
    assert checked_state(settings) == (state, suites)
    with duckdb.connect(str(work)) as con:  # a new broken file: the raw.quarantine suite must judge it
        con.execute("insert into raw.quarantine values ('x.txt', null, 'empty', null, null, 'r', now())")
    assert checked_state(settings)[0] != state
    edited = tmp_path / "expectations"
    shutil.copytree(settings.expectations_dir, edited)
    suite = next(edited.glob("*.json"))
    suite.write_text(suite.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # any edit counts
    assert checked_state(settings.with_(expectations_dir=edited))[1] != suites


def test_query_is_read_only(sample_run):
    db, _ = sample_run
    refused = newsetl("query", "delete from marts.dim_article", "--db", str(db))
    assert refused.returncode == 2
    assert "read-only" in refused.stderr
    assert query(db, "select count(*) from marts.dim_article") == [(5,)]
    ok = newsetl("query", "select count(*) as n from marts.dim_article", "--db", str(db), "--format", "csv")
    assert ok.returncode == 0 and ok.stdout.splitlines() == ["n", "5"]


def test_query_shows_a_result_too_wide_for_the_terminal_as_records_with_every_value_whole(sample_run):
    db, _ = sample_run
    wide = newsetl("query", "select * from marts.fct_event order by event_id limit 2", "--db", str(db),
                   env={"COLUMNS": "80"})
    assert wide.returncode == 0, wide.stderr
    lines = wide.stdout.splitlines()
    assert [ln.split()[0] for ln in lines if ln.strip().startswith("-[")] == ["-[", "-["]
    assert "-[ row 2 ]" in wide.stdout
    first = query(db, "select event_id, summary from marts.fct_event order by event_id limit 1")[0]
    assert any(ln.split() == ["event_id", first[0]] for ln in lines)
    assert "".join(wide.stdout.split()).count("".join(first[1].split())) == 1  # the summary whole, wrapped
    assert all(len(ln) <= 80 for ln in lines)
    # a result that fits stays a table; records can be asked for
    narrow = newsetl("query", "select count(*) as n from marts.fct_event", "--db", str(db), env={"COLUMNS": "80"})
    assert "┃ n" in narrow.stdout and "-[ row" not in narrow.stdout
    asked = newsetl("query", "select count(*) as n from marts.dim_article", "--db", str(db), "--format", "records")
    assert asked.stdout.split() == ["-[", "row", "1", "]", "n", "5"]


def test_query_writes_list_columns_to_csv_as_json(sample_run):
    db, _ = sample_run
    result = newsetl("query", "select name, aliases from marts.dim_entity where name = '미국'", "--db", str(db),
                     "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["name"] for r in rows] == ["미국"]
    assert "美" in json.loads(rows[0]["aliases"])


def test_status_lists_the_runs(sample_run):
    db, _ = sample_run
    result = newsetl("status", "--db", str(db), env={"COLUMNS": "80"})
    assert result.returncode == 0
    assert "marts.dim_article: 5 rows" in result.stdout
    # in 80 columns too, a run's id (to copy for `newsetl report --run`) and its status show whole
    run_id, started = query(db, "select run_id, started_at from audit.pipeline_runs order by started_at desc limit 1")[0]
    row = next(line for line in result.stdout.splitlines() if line.startswith(run_id))
    cells = row.split()
    assert (cells[0], cells[1], cells[3]) == (run_id, str(started)[:10], "success")
    assert re.fullmatch(r"\d+\.\d", cells[2])  # its seconds
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_missing_source_is_a_one_line_usage_error(tmp_path):
    result = newsetl("run", "--source", str(tmp_path / "nowhere"), "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_tasks_take_each_python_model_alone_and_the_sql_between_together():
    graph = graph_for(Settings())
    parts = stretches(graph, graph.order)
    assert [name for part in parts for name in part] == graph.order
    python = [n for n in graph.order if graph.models[n].kind == "python"]
    assert [part for part in parts if graph.models[part[0]].kind == "python"] == [[n] for n in python]
    # no two stretches of SQL models touch: one task (one connection) for each run of them
    kinds = ["python" if graph.models[part[0]].kind == "python" else "sql" for part in parts]
    assert all(not (a == b == "sql") for a, b in zip(kinds, kinds[1:], strict=False))
    assert len(parts) < len(graph.order) / 2


def test_worker_processes_analyse_as_this_process_does_and_leave_when_stopped():
    import multiprocessing
    from functools import partial

    from newsetl import analysis

    reference_dir = str(Settings().reference_dir)
    texts = [("a", "한국과 미국이 반도체 협력을 강화했다. 안덕근 산업통상자원부 장관이 말했다."),
             ("b", "삼성전자는 평택 공장에 새 설비를 들였다고 밝혔다."),
             ("c", "일본 정부는 대(對)중 수출 규제를 발표했다.")]
    batches = [texts[:1], texts[1:]]
    analyse = partial(analysis.analyse_batch, reference_dir=reference_dir)
    workers = analysis.LocalWorkers(2, reference_dir)
    try:
        remote = workers.map(analyse, batches)
        assert len(multiprocessing.active_children()) == 2
    finally:
        workers.close()
    assert multiprocessing.active_children() == []  # their analyzers' memory went with them
    assert remote == [analyse(batch) for batch in batches]
    sentences, mentions = remote[0]
    assert [s[4] for s in sentences] == ["한국과 미국이 반도체 협력을 강화했다.", "안덕근 산업통상자원부 장관이 말했다."]
    assert {m[4] for m in mentions} >= {"한국", "미국", "안덕근"}


def _memory_of_this_process(_batch) -> tuple[int, int, bool]:
    """(RSS, PSS) in MB and whether the analyzer here came loaded, single-threaded, from the fork server."""
    from newsetl import nlp

    nlp.kiwi()
    fields = dict(line.split(":") for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:])
    return int(fields["Rss"].split()[0]) // 1024, int(fields["Pss"].split()[0]) // 1024, nlp._single_threaded


def test_workers_forked_from_one_analyzer_share_its_memory_and_find_the_same_mentions():
    import multiprocessing
    from functools import partial
    from multiprocessing import forkserver

    from newsetl import analysis

    if not Path("/proc/self/smaps_rollup").exists() or "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs Linux's per-process memory accounting and a fork server")
    reference_dir = str(Settings().reference_dir)
    texts = [("a", "한국과 미국이 반도체 협력을 강화했다. 안덕근 산업통상자원부 장관이 말했다."),
             ("b", "삼성전자는 평택 공장에 새 설비를 들였다고 밝혔다.")]
    analyse = partial(analysis.analyse_batch, reference_dir=reference_dir)
    workers = analysis.LocalWorkers(2, reference_dir, shared=True)
    try:
        assert workers.shared
        remote = workers.map(analyse, [texts[:1], texts[1:]])
        memory = workers.map(_memory_of_this_process, [None, None])
        server = forkserver._forkserver._forkserver_pid
        assert server is not None and {p.pid for p in multiprocessing.active_children()} >= set(workers._pool._processes)
    finally:
        workers.close()
    assert multiprocessing.active_children() == []
    with pytest.raises(ProcessLookupError):  # the fork server, and the analyzer it held, are gone too
        os.kill(server, 0)
    assert remote == [analyse(texts[:1]), analyse(texts[1:])]
    for rss, pss, single in memory:
        assert single  # the worker analyses with the fork server's single-threaded analyzer, not one of its own
        assert rss - pss > 150  # of kiwi's ~0.5 GB, each of the three processes counts a share, not the whole


def test_a_worker_that_dies_fails_the_analysis_in_one_readable_line():
    import os

    import pytest

    from newsetl import analysis

    workers = analysis.LocalWorkers(1, str(Settings().reference_dir))
    try:
        with pytest.raises(analysis.WorkerLost, match="stopped abruptly"):
            workers.map(os._exit, [3])  # the worker process exits mid-batch, as when killed
    finally:
        workers.close()


def _worker_pid(_batch) -> int:
    import os

    return os.getpid()


def _prefetched_here(_batch) -> list[str]:
    from newsetl import analysis

    return sorted(analysis._prefetched)


def test_a_worker_analyses_the_new_files_ahead_and_serves_the_runs_batches_from_that(sample_run):
    # `newsetl run` with a few new files: the worker reads and cleans them as the ingest and the cleaning
    # model do, and analyses their texts while the flow starts; the batches the run then sends take those rows
    from functools import partial

    from newsetl import analysis, warehouse

    db, _ = sample_run
    settings = Settings()
    with warehouse.connect(db, read_only=True) as con:
        texts = con.execute("select distinct text_sha, analysed_text from intermediate.int_articles__cleaned "
                            "order by text_sha").fetchall()
    paths = sorted(str(p) for p in settings.sources[0].iterdir())
    reference_dir = str(settings.reference_dir)
    analyse = partial(analysis.analyse_frames, reference_dir=reference_dir)
    workers = analysis.LocalWorkers(1, reference_dir)
    try:
        workers.prefetch(paths, settings, limit=100)
        # the pool's one worker runs what comes after the prefetch once it has ended
        assert workers.map(_prefetched_here, [None]) == [[sha for sha, _ in texts]]  # the warehouse's very texts
        workers.stop_prefetch()
        remote = workers.map(analyse, [texts[:2], texts[2:]])
        assert workers.map(_prefetched_here, [None]) == [[]]  # each served once, then let go

        workers.prefetch(paths, settings, limit=2)
        assert len(workers.map(_prefetched_here, [None])[0]) == 2
        workers.prefetch(paths, settings, limit=100)
        workers.stop_prefetch()  # asked before it began: it analyses nothing
        assert workers.map(_prefetched_here, [None]) == [[]]
    finally:
        workers.close()
    here = [analyse(texts[:2]), analyse(texts[2:])]
    for got, expected in zip(remote, here, strict=True):  # the same rows, in another order
        for frame, same in zip(got, expected, strict=True):
            assert frame.sort(frame.columns).equals(same.sort(same.columns))
    assert sum(len(s) for s, _ in remote) > 20  # five articles' sentences


def test_a_resident_process_keeps_one_loaded_analyzer_between_runs_until_it_cannot_serve(tmp_path):
    # `newsetl watch`: the worker of a run with a few new articles is the one loaded before it
    import os
    import shutil
    import signal
    import time

    from newsetl import pipeline as steps

    reference = tmp_path / "reference"
    shutil.copytree(Settings().reference_dir, reference)
    settings = Settings().with_(reference_dir=reference, workers=2)

    def pid_of_run(texts: int) -> int:
        steps.start_local_analysis(settings, texts=texts)
        return steps.map_on_local_workers(settings)(_worker_pid, [None])[0]

    try:
        steps.keep_analysis_warm(settings)
        first = pid_of_run(84)
        steps.stop_local_analysis()
        steps.keep_analysis_warm(settings)
        assert pid_of_run(84) == first  # the next run's worker: the same process, its analyzer loaded
        steps.stop_local_analysis()

        # the reference data changed (`newsetl entities promote`): a worker that read the old one goes
        os.utime(reference / "organizations.csv", ns=(0, 10**18))
        steps.keep_analysis_warm(settings)
        second = pid_of_run(84)
        assert second != first
        steps.stop_local_analysis()

        # the loaded worker was killed while the process waited (out of memory): a new one serves
        steps.keep_analysis_warm(settings)
        os.kill(second, signal.SIGKILL)
        time.sleep(1)
        steps.keep_analysis_warm(settings)
        third = pid_of_run(84)
        assert third not in (first, second)
        steps.stop_local_analysis()

        # many new articles want a worker per core: the single loaded one makes way for them
        steps.keep_analysis_warm(settings)
        steps.start_local_analysis(settings, texts=5000)
        assert steps._local_workers.workers == 2
        assert third not in steps.map_on_local_workers(settings)(_worker_pid, [None] * 4)
        steps.stop_local_analysis()
        assert steps._warm is None  # two workers are not kept; the next look at the sources loads one
    finally:
        steps.stop_local_analysis()
        steps.stop_resident_analysis()
    assert steps._warm is None and steps._local_workers is None


def test_a_run_with_a_few_new_files_loads_its_analyzer_before_its_flow_starts(tmp_path):
    # `newsetl run`: the worker loads beside the Prefect server's boot; the ingest then adopts it or stops it
    import signal

    from newsetl import pipeline as steps
    from newsetl import warehouse
    from newsetl.ingest import ingest

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.txt").write_text("제목\n\n한국과 미국이 반도체 협력을 강화했다.", encoding="utf-8")
    settings = Settings().with_(db=tmp_path / "w.duckdb", sources=(landing,), workers=2)
    with steps.analysis_started_early(settings) as files:
        assert steps.analysing_early()  # no warehouse yet: a first run of one file reads it
        assert files == 1 and not steps.many_to_analyse(files)
    with warehouse.connect(settings.db) as con:
        warehouse.ensure_schema(con)
        ingest(con, settings, "r1")
    with steps.analysis_started_early(settings) as files:
        assert not steps.analysing_early() and files == 0  # nothing new

    (landing / "b.txt").write_text("제목\n\n일본이 수출 규제를 발표했다.", encoding="utf-8")
    with steps.analysis_started_early(settings, wanted=False):  # the analysis runs on Dask
        assert not steps.analysing_early()
    try:
        with steps.analysis_started_early(settings):
            early = steps._early
            assert early is not None
            assert len(early.map(_prefetched_here, [None])[0]) == 1  # the new file's text, analysed ahead
            early_pids = set(early._pool._processes)
            steps.start_local_analysis(settings, texts=1)
            assert steps._local_workers is early and not steps.analysing_early()
            pid = steps.map_on_local_workers(settings)(_worker_pid, [None])[0]
            processes = list(early._pool._processes.values())
            steps.stop_local_analysis()  # returns while the lone worker exits
        assert early_pids == {pid} and steps._local_workers is None
        steps.stopped_workers()  # what a run's end does
        assert [p.exitcode for p in processes] == [0]  # its analyzer's memory is gone all the same

        # the new file held nothing new after all (a duplicate): the loading worker is ended, not awaited
        with steps.analysis_started_early(settings):
            processes = list(steps._early._pool._processes.values())
            steps.drop_early_analysis()
            assert [p.exitcode for p in processes] == [-signal.SIGTERM]
        # many new articles in those files want a worker per core: the early one makes way for them
        with steps.analysis_started_early(settings):
            early_pids = set(steps._early._pool._processes)
            steps.start_local_analysis(settings, texts=5000)
            assert steps._local_workers.workers == 2 and not steps.analysing_early()
            assert set(steps.map_on_local_workers(settings)(_worker_pid, [None] * 4)).isdisjoint(early_pids)
    finally:
        steps.stop_local_analysis()
        steps.drop_early_analysis()
    assert steps._early is None and steps._local_workers is None


def test_the_steps_of_a_small_run_share_one_open_work_file_and_publish_all_they_wrote(tmp_path, monkeypatch):
    # opening the work file and closing it (a checkpoint) cost ~1 s of a run with 84 new files at 10k articles
    from newsetl import pipeline as steps
    from newsetl import warehouse

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.txt").write_text("제목\n\n한국과 미국이 반도체 협력을 강화했다.", encoding="utf-8")
    settings = Settings().with_(db=tmp_path / "w.duckdb", sources=(landing,))
    opened: list[Path] = []
    real = warehouse.connect
    monkeypatch.setattr(warehouse, "connect", lambda path, **kw: opened.append(Path(path)) or real(path, **kw))
    with steps.holding_work_db(settings):
        steps.start_run(settings, "r1", print)
        assert steps.ingest_step(settings, "r1")["articles_new"] == 1
        with steps.work_connection(settings) as one, steps.work_connection(settings) as other:
            one.execute("begin transaction")
            one.execute("create table main.scratch as select 1 as x")
            # each step's transaction stays its own: what it has not committed, no other step sees
            assert not warehouse.table_exists(other, "main.scratch")
            one.execute("rollback")
        assert opened.count(settings.work_db) == 1
        steps.publish_step(settings)  # closes the file before copying it
        with steps.work_connection(settings, read_only=True) as con:  # and later steps open it again
            assert warehouse.scalar(con, "select count(*) from raw.articles") == 1
        assert opened.count(settings.work_db) == 2
    assert query(settings.db, "select status from audit.pipeline_runs") == [("running",)]
    assert query(settings.db, "select count(*) from raw.articles") == [(1,)]
    assert not settings.work_db.with_name(settings.work_db.name + ".wal").exists()
    with steps.work_connection(settings) as con:  # outside the block: a connection of its own, as before
        con.execute("select 1")
    assert opened.count(settings.work_db) == 3

    # a work file larger than DuckDB's memory limit is not held: the cache would only add to the run
    assert warehouse.fits_in_cache(settings.work_db) and warehouse.fits_in_cache(tmp_path / "none.duckdb")
    monkeypatch.setenv("NEWSETL_DUCKDB_MEMORY", "1KB")
    assert not warehouse.fits_in_cache(settings.work_db)
    monkeypatch.delenv("NEWSETL_DUCKDB_MEMORY")  # DuckDB cannot work in 1 KB: the file stands for a large one
    monkeypatch.setattr(warehouse, "fits_in_cache", lambda path: False)
    with steps.holding_work_db(settings):
        for _ in range(2):
            with steps.work_connection(settings) as con:
                con.execute("select 1")
    assert opened.count(settings.work_db) == 5


def test_an_analysis_with_no_new_text_starts_no_worker():
    # a run whose files were only removed, or whose new articles are all duplicates, rebuilds the analysis
    # with nothing in it: two workers loading analyzers for that cost ~8 s of CPU
    from newsetl import pipeline as steps

    assert steps._local_workers is None
    try:
        assert steps.map_on_local_workers(Settings().with_(workers=2))(_worker_pid, []) == []
        assert steps._local_workers is None
    finally:
        steps.stop_local_analysis()


@pytest.mark.parametrize("shared", [False, True], ids=["spawned", "forked-from-one-analyzer"])
def test_analysis_workers_end_with_a_process_killed_outright(tmp_path, shared):
    # SIGKILL or the out-of-memory killer gives the process no time to stop its workers: they must not stay
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import os\n"
        "from newsetl.analysis import LocalWorkers\n"
        "from newsetl.config import Settings\n"
        "def pid(_batch):\n"
        "    return os.getpid()\n"
        "if __name__ == '__main__':\n"
        f"    workers = LocalWorkers(2, str(Settings().reference_dir), shared={shared})\n"
        "    from multiprocessing import forkserver\n"
        "    server = [forkserver._forkserver._forkserver_pid] if workers.shared else []\n"
        "    print(*sorted(set(workers.map(pid, [None] * 8))), *server, flush=True)\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    path = tmp_path / "killed.py"
    path.write_text(script)
    printed = tmp_path / "out.txt"
    with printed.open("w") as out:  # a file, not a pipe: a worker left behind would hold a pipe open
        code = subprocess.run([sys.executable, str(path)], stdout=out, stderr=subprocess.STDOUT, timeout=120).returncode
    assert code == -signal.SIGKILL, printed.read_text()
    left = [int(pid) for pid in printed.read_text().splitlines()[0].split()]  # then the resource tracker may warn
    assert left
    deadline = time.monotonic() + 20
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if _alive(pid)]
        time.sleep(0.2)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes {left} (workers, fork server) outlived their killed parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_objects_set_aside_from_the_collector_are_handed_back_at_a_normal_exit(tmp_path):
    # A scheduled run of serve is a Prefect process that exits normally: with duckdb's objects still frozen
    # there, nanobind printed tens of 'leaked instance' lines into serve's log at the end of every run.
    import subprocess
    import sys

    script = (
        "import gc, duckdb\n"
        "from newsetl.collector import set_aside_loaded_objects\n"
        "con = duckdb.connect()\n"
        "con.sql('select 1::integer as a').fetchall()\n"
        "set_aside_loaded_objects()\n"
        "set_aside_loaded_objects()\n"
        "print(gc.get_freeze_count() > 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]  # the objects were set aside while the process ran
    assert "leaked" not in result.stderr, result.stderr


def test_libraries_load_with_the_collector_paused_until_the_last_loader_ends_then_set_aside():
    # The CLI loads Prefect while the checks load Great Expectations on a thread: the collector must stay off
    # until both are done, then set aside what they made, and run again only if it ran before.
    import subprocess
    import sys

    script = (
        "import gc, threading\n"
        "from newsetl.collector import loading_libraries\n"
        "inside, started, release = [], threading.Event(), threading.Event()\n"
        "def loader():\n"
        "    with loading_libraries():\n"
        "        started.set()\n"
        "        release.wait()\n"
        "        inside.append(gc.isenabled())\n"
        "thread = threading.Thread(target=loader)\n"
        "with loading_libraries():\n"
        "    thread.start()\n"
        "    started.wait()\n"
        "    inside.append(gc.isenabled())\n"
        "    made = [[] for _ in range(5000)]\n"
        "print(gc.isenabled(), gc.get_freeze_count() >= 5000)\n"
        "release.set()\n"
        "thread.join()\n"
        "print(gc.isenabled(), gc.get_freeze_count() >= 5000, inside)\n"
        "gc.disable()\n"
        "with loading_libraries():\n"
        "    pass\n"
        "print(gc.isenabled())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "False False",  # the main block ended, the thread's goes on: paused still, nothing set aside yet
        "True True [False, False]",  # the last one ended: collecting again, the objects made meanwhile set aside
        "False",  # a collector the caller had turned off stays off
    ]
