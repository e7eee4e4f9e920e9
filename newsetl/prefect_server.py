"""A real local Prefect server that newsetl starts, owns and stops, for every run, schedule and Dask worker.

Prefect's temporary server cannot schedule flows, every Dask worker would start its own, and
it starts only when the flow is called; a server started here boots while newsetl loads its
project, and serves all three. When PREFECT_API_URL is already set, that server is used and
nothing is started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# The services a server started for one run (no UI: `newsetl run`) leaves off. They serve deployments,
# workers, schedules and automations, which `newsetl serve` runs its own server for, and each polls the
# database every few seconds: together ~0.17 of a core for the whole run (0.02 without them), on the core
# the analysis uses. The services that record the run (events, task runs) stay; a user's setting wins.
RUN_ONLY_IDLE_SERVICES = ("SCHEDULER", "LATE_RUNS", "FOREMAN", "REPOSSESSOR", "PAUSE_EXPIRATIONS",
                          "CANCELLATION_CLEANUP", "CLEANUP_RECONCILER", "TRIGGERS", "DB_VACUUM")


class ServerError(RuntimeError):
    """The local Prefect server did not come up."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answering() -> bool:
    """Whether the server this process uses (PREFECT_API_URL) answers already."""
    api_url = os.environ.get("PREFECT_API_URL")
    return bool(api_url) and healthy(api_url, timeout=0.5)


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def prefect_api(log_path: Path | None = None, *, start_timeout: float = 90.0, ui: bool = True) -> Iterator[str]:
    """Yield an API URL: PREFECT_API_URL when set, else a server started here and stopped on exit."""
    with booting_prefect_api(log_path, start_timeout=start_timeout, ui=ui) as ready:
        yield ready()


@contextmanager
def booting_prefect_api(log_path: Path | None = None, *, start_timeout: float = 90.0,
                        ui: bool = True, wait_for_stop: bool = True) -> Iterator[Callable[[], str]]:
    """Start a server now and yield `ready()`, which waits until it answers and returns its API URL.

    The server takes ~4-6 s to boot, about as long as newsetl takes to load its project: started
    first, it boots on the other core while the caller reads models and suites. With
    PREFECT_API_URL set, nothing is started and `ready()` returns that URL.

    On exit the server is asked to stop; its graceful shutdown takes ~1.2 s. A caller that exits right
    after (`newsetl run`) passes wait_for_stop=False and lets it finish that on its own: everything
    the run reported was drained to it first.
    """
    existing = os.environ.get("PREFECT_API_URL")
    if existing:
        yield lambda: existing
        return
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true" if ui else "false")}
    if not ui:
        # Without a UI nobody browses block types, and registering them (or only hashing the installed
        # collections to learn that they are registered already) is ~0.5 s of the boot a run waits for.
        env.setdefault("PREFECT_API_BLOCKS_REGISTER_ON_START", "false")
        env.setdefault("PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION", "false")
        for name in RUN_ONLY_IDLE_SERVICES:
            env.setdefault(f"PREFECT_SERVER_SERVICES_{name}_ENABLED", "false")
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    # without a log path (a plain run), the server's output is kept only to explain a failed start
    log = open(log_path, "ab") if log_path else tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "newsetl.prefect_server", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True, preexec_fn=_dies_with_parent(),
    )
    deadline = time.monotonic() + start_timeout
    # set now: Prefect reads its settings when first imported, which may be before the server answers
    os.environ["PREFECT_API_URL"] = api_url

    def ready() -> str:
        while not healthy(api_url):
            if process.poll() is not None:
                raise ServerError(f"the Prefect server exited with code {process.returncode}"
                                  + (f"; see {log_path}" if log_path else _last_line(log)))
            if time.monotonic() > deadline:
                raise ServerError(f"the Prefect server did not answer on {api_url} within {start_timeout:.0f} s")
            time.sleep(0.2)
        return api_url

    try:
        yield ready
    finally:
        drain_prefect_clients()
        os.environ.pop("PREFECT_API_URL", None)
        process.terminate()
        if wait_for_stop:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _last_line(log) -> str:
    log.seek(0)
    lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return f": {lines[-1]}" if lines else ""


def drain_prefect_clients(timeout: float = 10.0) -> None:
    """Send the logs and events Prefect still holds in its background workers while the server is up.

    Stopped first, the server leaves the workers retrying (and printing 'Error logging to API')
    for over a minute at interpreter exit.
    """
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        try:
            service.drain_all(timeout=timeout)
        except Exception:  # noqa: BLE001 - a worker that never started has nothing to send
            pass


def _dies_with_parent() -> Callable[[], None] | None:
    """For the server's process, before it starts: a SIGTERM when newsetl dies, even by SIGKILL, so that a
    killed run leaves no server behind (in its own session, a kill of the run's process group misses it).

    prctl is looked up here, in newsetl's process: between fork and exec the child only calls it (an
    import there could deadlock on a lock another thread held at the fork)."""
    try:
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux/glibc: the server outlives a killed run
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def serve(host: str, port: int) -> None:
    """The server process: Prefect's API (and UI) app under uvicorn, as `prefect server start` runs it in the
    foreground, without loading Prefect's command line first: ~0.2 s less of a boot that a run waits for
    (3.44 -> 3.26 s alone, median of three). Stops gracefully on SIGTERM (uvicorn's own handling)."""
    from newsetl.collector import loading_libraries

    with loading_libraries():  # 1.9-2.1 s instead of 2.5-2.7 s, most of the boot a run waits for
        import uvicorn
        from prefect.server.api.server import create_app
        from prefect.settings import (
            PREFECT_SERVER_API_KEEPALIVE_TIMEOUT,
            PREFECT_SERVER_API_WEBSOCKET_PING_INTERVAL,
            PREFECT_SERVER_API_WEBSOCKET_PING_TIMEOUT,
            PREFECT_SERVER_LOGGING_LEVEL,
        )

        app = create_app(final=True)
    uvicorn.run(app=app, host=host, port=port,
                timeout_keep_alive=PREFECT_SERVER_API_KEEPALIVE_TIMEOUT.value(),
                ws_ping_interval=PREFECT_SERVER_API_WEBSOCKET_PING_INTERVAL.value(),
                ws_ping_timeout=PREFECT_SERVER_API_WEBSOCKET_PING_TIMEOUT.value(),
                log_level=PREFECT_SERVER_LOGGING_LEVEL.value().lower())


if __name__ == "__main__":  # python -m newsetl.prefect_server --host HOST --port PORT (booting_prefect_api)
    import argparse

    parser = argparse.ArgumentParser(prog="python -m newsetl.prefect_server", description=serve.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.host, args.port)
