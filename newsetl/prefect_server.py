"""A real local Prefect server that newsetl starts, owns and stops (for schedules and Dask workers).

Prefect's temporary server cannot schedule flows, and every Dask worker would start its
own; a real server on loopback serves both. When PREFECT_API_URL is already set, that
server is used and nothing is started.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ServerError(RuntimeError):
    """The local Prefect server did not come up."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def prefect_api(log_path: Path | None = None, *, start_timeout: float = 90.0) -> Iterator[str]:
    """Yield an API URL: PREFECT_API_URL when set, else a server started here and stopped on exit."""
    existing = os.environ.get("PREFECT_API_URL")
    if existing:
        yield existing
        return
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true")}
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while not healthy(api_url):
            if process.poll() is not None:
                raise ServerError(f"the Prefect server exited with code {process.returncode}"
                                  + (f"; see {log_path}" if log_path else ""))
            if time.monotonic() > deadline:
                raise ServerError(f"the Prefect server did not answer on {api_url} within {start_timeout:.0f} s")
            time.sleep(0.5)
        os.environ["PREFECT_API_URL"] = api_url
        yield api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not subprocess.DEVNULL:
            log.close()
