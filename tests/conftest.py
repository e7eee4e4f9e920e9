"""Shared fixtures: the real pipeline run once on the bundled sample, through the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from newsetl import warehouse

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def pytest_configure(config) -> None:
    # What newsetl keeps between processes (parsed SQL, the recognizer's context look-ups) starts empty for each
    # test session, in a folder of its own: a developer's ~/.cache neither serves the tests nor gets their files.
    os.environ["NEWSETL_CACHE_DIR"] = tempfile.mkdtemp(prefix="newsetl-test-cache-")


def pytest_unconfigure(config) -> None:
    shutil.rmtree(os.environ.pop("NEWSETL_CACHE_DIR", ""), ignore_errors=True)


def newsetl(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the newsetl CLI as a user would, in a subprocess."""
    full_env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", **(env or {})}
    return subprocess.run([sys.executable, "-m", "newsetl.cli", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Read a warehouse as newsetl's readers do (waiting out a run's brief writes into the published file)."""
    with warehouse.connect(db, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The pipeline run on seeds/articles into a temporary warehouse."""
    db = tmp_path_factory.mktemp("sample") / "newsetl.duckdb"
    result = newsetl("run", "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    return db, result
