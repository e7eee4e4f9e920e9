"""Leave it running: schedules fire, concurrent runs serialize, killed runs leave a usable warehouse."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from conftest import ROOT, newsetl, query

from newsetl import warehouse
from newsetl.cli import serving_name
from newsetl.prefect_server import healthy, prefect_api

COUNTED = ("raw.articles", "marts.dim_article", "marts.fct_event", "marts.fct_entity_mention")


def _counts(db: Path) -> dict[str, int]:
    return {t: query(db, f"select count(*) from {t}")[0][0] for t in COUNTED}


def _start(*args: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    return subprocess.Popen([sys.executable, "-m", "newsetl.cli", *args], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def test_two_simultaneous_runs_end_like_one(sample_run, tmp_path):
    clean, _ = sample_run
    db = tmp_path / "newsetl.duckdb"
    first = _start("run", "--db", str(db), "--wait", "600", log=tmp_path / "a.log")
    second = _start("run", "--db", str(db), "--wait", "600", log=tmp_path / "b.log")
    assert first.wait(600) == 0, (tmp_path / "a.log").read_text()
    assert second.wait(600) == 0, (tmp_path / "b.log").read_text()
    assert _counts(db) == _counts(clean)
    assert query(db, "select count(*) from audit.pipeline_runs where status = 'success'") == [(2,)]


def test_a_second_writer_without_wait_is_refused_clearly(tmp_path):
    # The writer is this test process, holding the same lock a run holds: a run on the 5 sample
    # articles now holds it for only a few seconds, too short to aim a second run at.
    db = tmp_path / "newsetl.duckdb"
    with warehouse.writer_lock(tmp_path / "newsetl.duckdb.lock"):
        refused = newsetl("run", "--db", str(db))
    assert refused.returncode == 2
    assert f"is being written by pid {os.getpid()}" in refused.stderr and "Traceback" not in refused.stderr
    assert not db.exists()
    assert newsetl("run", "--db", str(db)).returncode == 0  # once the lock is free, the same run goes through


def _servers() -> set[int]:
    out = subprocess.run(["pgrep", "-f", "newsetl.prefect_server --host"], capture_output=True, text=True).stdout
    return {int(pid) for pid in out.split()}


def test_killed_runs_leave_a_usable_warehouse_and_the_rerun_matches_a_clean_run(sample_run, tmp_path):
    clean, _ = sample_run
    db = tmp_path / "newsetl.duckdb"
    servers_before = _servers()
    for delay in (3, 8, 20):
        proc = _start("run", "--db", str(db), log=tmp_path / f"killed-{delay}.log")
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        rerun = newsetl("run", "--db", str(db))
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert _counts(db) == _counts(clean), f"after a kill at {delay} s"
    statuses = {r[0] for r in query(db, "select status from audit.pipeline_runs")}
    assert statuses <= {"success", "abandoned"}
    # each killed run's Prefect server went with it
    deadline = time.monotonic() + 30
    while _servers() - servers_before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _servers() - servers_before == set()


def test_serve_fires_a_scheduled_run_and_stops_its_server(tmp_path):
    db = tmp_path / "w" / "newsetl.duckdb"
    log = tmp_path / "serve.log"
    proc = _start("serve", "--cron", "* * * * *", "--db", str(db), log=log)
    api = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            api = api or (m.group(1) if (m := re.search(r"Prefect API (http://\S+/api)", text)) else None)
            if db.exists() and query(db, "select count(*) from audit.pipeline_runs where status = 'success'")[0][0]:
                break
            assert proc.poll() is None, text
            time.sleep(3)
        else:
            raise AssertionError("no scheduled run finished within 240 s:\n" + log.read_text(errors="replace"))
        assert api and healthy(api)
        assert query(db, "select count(*) from marts.dim_article") == [(5,)]
        # its deployment is this warehouse's own: Prefect keeps every local server's deployments in one database
        name = serving_name(db)
        assert f"serving: pipeline/{name} on '* * * * *'" in log.read_text(errors="replace")
        with urllib.request.urlopen(f"{api}/deployments/name/pipeline/{name}", timeout=10) as response:
            assert json.load(response)["parameters"]["db"] == str(db.resolve())
        # its runner talks to serve's own server: Prefect was not imported before that server's address was set
        assert "ephemeral server" not in log.read_text(errors="replace")
    finally:
        _stop_cleanly(proc, log, signal.SIGINT)
    assert not healthy(api), "serve left its Prefect server running"
    # each scheduled run is a process of its own that exits normally: nothing of duckdb's may be left frozen there
    assert "nanobind" not in log.read_text(errors="replace")


def test_each_warehouse_is_served_under_a_deployment_of_its_own(tmp_path):
    first, second = tmp_path / "a" / "newsetl.duckdb", tmp_path / "b" / "newsetl.duckdb"
    assert serving_name(first) != serving_name(second)
    assert serving_name(first) == serving_name(tmp_path / "a" / ".." / "a" / "newsetl.duckdb")
    assert re.fullmatch(r"newsetl-[0-9a-f]{8}", serving_name(first))


def test_serve_stops_in_order_when_only_its_own_process_is_signalled(tmp_path):
    # `docker stop` sends SIGTERM to the container's first process alone; `kill -INT` is the hand-made Ctrl-C.
    # Prefect's runner met the first with three lines of RuntimeWarning and did not stop on the second.
    for sig in (signal.SIGTERM, signal.SIGINT):
        db = tmp_path / sig.name / "newsetl.duckdb"
        log = tmp_path / f"serve-{sig.name}.log"
        proc = _start("serve", "--cron", "0 0 1 1 *", "--db", str(db), log=log)
        try:
            _wait_for(log, proc, r"Prefect API (http://\S+/api)")
            api = re.search(r"Prefect API (http://\S+/api)", log.read_text()).group(1)
            os.kill(proc.pid, sig)
            _wait_for_exit(proc, log, 60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        text = log.read_text(errors="replace")
        assert proc.returncode == 0, text
        assert text.rstrip().endswith("stopped") and "Warning" not in text and "Traceback" not in text, text
        assert not healthy(api), "serve left its Prefect server running"


# `newsetl serve` with a SIGTERM sent to itself as Prefect's runner starts its event emitter, one of the services
# it sets up before it counts as started: the moment a service manager's stop may land on a serve just started.
SIGNALLED_WHILE_SETTING_UP = """
import os, signal, sys
import newsetl.cli as cli

serving_runner = cli._serving_runner

def signalled_while_setting_up(stop, name):
    from prefect.runner import runner  # imported here: only once serve has set its Prefect API address
    setting_up = runner.EventEmitter.__aenter__

    async def signal_first(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return await setting_up(self, *args, **kwargs)

    runner.EventEmitter.__aenter__ = signal_first
    return serving_runner(stop, name)

cli._serving_runner = signalled_while_setting_up
sys.argv = ["newsetl", *sys.argv[1:]]
cli.main()
"""


def test_serve_stopped_while_its_runner_sets_itself_up_still_pauses_its_schedule(tmp_path):
    # Served on a team's Prefect server (PREFECT_API_URL), a stopped serve pauses its deployment's schedule, or
    # the server goes on scheduling runs that nobody takes. A stop in the runner's set-up used to skip that.
    launcher = tmp_path / "serve_signalled.py"
    launcher.write_text(SIGNALLED_WHILE_SETTING_UP, encoding="utf-8")
    db = tmp_path / "w" / "newsetl.duckdb"
    with prefect_api(ui=False) as api:
        env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": "WARNING"}
        result = subprocess.run([sys.executable, str(launcher), "serve", "--cron", "0 0 1 1 *", "--db", str(db)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr
        assert result.stderr.rstrip().endswith("stopped") and "Traceback" not in result.stderr, result.stderr
        with urllib.request.urlopen(f"{api}/deployments/name/pipeline/{serving_name(db)}", timeout=10) as response:
            assert json.load(response)["paused"] is True


def test_serve_refuses_a_bad_cron_before_starting_anything(tmp_path):
    db = tmp_path / "w" / "newsetl.duckdb"
    result = newsetl("serve", "--cron", "61 * * * *", "--db", str(db), timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --cron '61 * * * *': not a valid cron expression (five fields, e.g. \"0 * * * *\")"
    assert not db.parent.exists()  # no server was started, no folder made


def _wait_for(log: Path, proc: subprocess.Popen, pattern: str, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if re.search(pattern, log.read_text(errors="replace")):
            return
        assert proc.poll() is None, log.read_text(errors="replace")
        time.sleep(0.5)
    raise AssertionError(f"no {pattern!r} within {seconds} s:\n" + log.read_text(errors="replace"))


def test_watch_runs_when_a_file_lands_and_only_then(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(ROOT / "seeds" / "articles", landing)
    db = tmp_path / "w" / "newsetl.duckdb"
    log = tmp_path / "watch.log"
    proc = _start("watch", "--source", str(landing), "--db", str(db), "--every", "0.5", log=log)
    try:
        _wait_for(log, proc, r"run \S+: success, 5 new articles, 0 quarantined, .*, published")
        assert query(db, "select count(*) from marts.dim_article") == [(5,)]
        time.sleep(3)  # six looks at unchanged sources: no run
        assert query(db, "select count(*) from audit.pipeline_runs") == [(1,)]

        article = next(landing.glob("001_*.txt")).read_text(encoding="utf-8")
        (landing / "late.txt").write_text(article.replace("반도체", "이차전지"), encoding="utf-8")
        (landing / "broken.json").write_text("{not json", encoding="utf-8")
        _wait_for(log, proc, r"run \S+: success, 1 new articles, 1 quarantined, .*, published")
        assert query(db, "select count(*) from marts.dim_article") == [(6,)]
        assert query(db, "select count(*) from raw.quarantine") == [(1,)]
        assert query(db, "select count(*) from audit.pipeline_runs where status = 'success'") == [(2,)]
        # each run published its work file itself; the copy the next run writes to is taken while it waits
        work = db.with_name("newsetl.work.duckdb")
        deadline = time.monotonic() + 30
        while not work.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert work.exists() and work.stat().st_ino != db.stat().st_ino
    finally:
        _stop_cleanly(proc, log, signal.SIGINT)


def _wait_for_exit(proc: subprocess.Popen, log: Path, seconds: float) -> None:
    """Wait for the process to exit; one still there after `seconds` is asked where it is stuck (SIGUSR1:
    every thread's stack, to its log), and the failure shows that log."""
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(3)
        raise AssertionError(f"still running {seconds:.0f} s after the stop:\n" + log.read_text(errors="replace")) from None


def _stop_cleanly(proc: subprocess.Popen, log: Path, sig: int) -> None:
    """Send `sig` to the watch and all its processes: it must end in order, exit 0, without a traceback."""
    os.killpg(proc.pid, sig)
    _wait_for_exit(proc, log, 60)
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, text
    assert text.rstrip().endswith("stopped") and "Traceback" not in text


def test_watch_stopped_by_a_service_manager_ends_like_ctrl_c(tmp_path):
    # systemd's default stop: SIGTERM to every process of the service (the watch, its worker, its server)
    db = tmp_path / "w" / "newsetl.duckdb"
    log = tmp_path / "watch.log"
    proc = _start("watch", "--db", str(db), "--every", "0.5", log=log)
    try:
        _wait_for(log, proc, r"run \S+: success, 5 new articles")
        # an operator's look at where a resident process is: every thread's stack, and it goes on
        os.kill(proc.pid, signal.SIGUSR1)
        _wait_for(log, proc, r"Current thread 0x[0-9a-f]+ \(most recent call first\):\n(.|\n)*newsetl/cli\.py", 30)
        assert proc.poll() is None
    finally:
        _stop_cleanly(proc, log, signal.SIGTERM)
    assert query(db, "select count(*) from marts.dim_article") == [(5,)]


def test_ctrl_c_during_the_analysis_stops_the_run_in_one_line_and_publishes_nothing(tmp_path):
    db = tmp_path / "newsetl.duckdb"
    log = tmp_path / "run.log"
    proc = _start("run", "--db", str(db), log=log)
    _wait_for(log, proc, r"built intermediate\.int_articles__latest")  # the analysis comes next
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(60) == 130
    text = log.read_text(errors="replace")
    assert "interrupted: the run was stopped" in text
    assert "Traceback" not in text and "ERROR" not in text
    assert not db.exists()  # nothing published: there was no earlier run


def test_flow_runs_started_here_send_no_heartbeats_unless_configured_to(monkeypatch):
    # the engine joins its heartbeat thread at each run's end, and that thread sleeps in 1 s steps
    from prefect.flow_engine import FlowRunEngine

    from flows.pipeline import pipeline, without_heartbeats

    for name in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"):
        monkeypatch.delenv(name, raising=False)
    assert FlowRunEngine(flow=pipeline).heartbeat_seconds is not None  # Prefect sends them by default (180 s)
    with without_heartbeats():
        assert FlowRunEngine(flow=pipeline).heartbeat_seconds is None
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")  # a server that watches for crashed runs
    with without_heartbeats():
        assert FlowRunEngine(flow=pipeline).heartbeat_seconds is not None


def _prefect_server_environment(api: str) -> dict[str, str]:
    """The environment of the Prefect server this process started for `api` (its child serving that port)."""
    port = str(urllib.parse.urlsplit(api).port)
    children = []
    for task in Path("/proc/self/task").iterdir():
        children += (task / "children").read_text().split()
    serving = "\x00".join(("newsetl.prefect_server", "--host", "127.0.0.1", "--port", port, "")).encode()
    for pid in children:
        if serving in Path(f"/proc/{pid}/cmdline").read_bytes():
            pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
    raise AssertionError(f"no Prefect server on port {port} among this process's children")


def test_a_runs_own_server_skips_block_types_and_idle_services_unless_asked(monkeypatch):
    # ~0.5 s of the boot every `newsetl run` waits for (3.9 -> 3.4 s); a server with a UI (serve, watch)
    # registers them as Prefect does, and a user's own setting wins
    from newsetl.prefect_server import booting_prefect_api

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_BLOCKS_REGISTER_ON_START", raising=False)
    monkeypatch.delenv("PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED", raising=False)
    with booting_prefect_api(ui=False) as ready:
        api = ready()
        assert healthy(api)
        env = _prefect_server_environment(api)
        assert env["PREFECT_API_BLOCKS_REGISTER_ON_START"] == "false"
        # nor does it run the services of deployments, workers and automations, which poll all run long;
        # the ones that record the run stay
        assert env["PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED"] == "false"
        assert env["PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED"] == "false"
        assert "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED" not in env
        assert "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED" not in env
    monkeypatch.setenv("PREFECT_API_BLOCKS_REGISTER_ON_START", "true")
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED", "true")
    with booting_prefect_api(ui=False) as ready:
        env = _prefect_server_environment(ready())
        assert env["PREFECT_API_BLOCKS_REGISTER_ON_START"] == "true"
        assert env["PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED"] == "true"
