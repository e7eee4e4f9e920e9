"""The one place that opens DuckDB: connections, the writer lock, raw tables and publishing.

A run writes into a work file beside the published database and publishes by
replacing the published file atomically with a checkpointed copy. Readers of the
published file (queries, notebooks, scorers) never see a half-built mart, and a run
that fails its checks leaves the published file as it was (write-audit-publish).
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# Extensions beyond the wheel's built-ins would be fetched from the network and hang offline.
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts", "audit")

RAW_DDL = """
create table if not exists raw.articles (
    article_id varchar primary key,
    source_path varchar not null,
    source_record integer,
    content_sha256 varchar not null,
    format varchar not null,
    encoding varchar,
    raw_text varchar not null,
    title varchar,
    body varchar not null,
    metadata json,
    ingested_at timestamp not null,
    run_id varchar not null
);
create table if not exists raw.quarantine (
    source_path varchar not null,
    source_record integer,
    reason varchar not null,
    detail varchar,
    bytes_sha256 varchar,
    run_id varchar not null,
    quarantined_at timestamp not null
);
create table if not exists audit.pipeline_runs (
    run_id varchar primary key,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    flow_run_id varchar,
    sources varchar,
    files_seen integer,
    articles_new integer,
    quarantined_new integer,
    counts json,
    checks_passed integer,
    checks_failed integer,
    blocking_failures integer,
    published boolean,
    message varchar,
    timings json
);
create table if not exists audit.model_runs (
    run_id varchar not null,
    model varchar not null,
    kind varchar,
    status varchar not null,
    rows bigint,
    seconds double,
    error varchar,
    finished_at timestamp
);
create table if not exists audit.validation_results (
    run_id varchar not null,
    suite varchar not null,
    expectation varchar not null,
    severity varchar not null,
    success boolean not null,
    observed varchar,
    unexpected_count bigint,
    sample varchar,
    checked_at timestamp
);
create table if not exists audit.checked_states (
    run_id varchar not null,
    state varchar not null,
    suites varchar not null,
    checked_by varchar not null,
    recorded_at timestamp not null
);
create table if not exists audit.validation_suites (
    run_id varchar not null,
    suite varchar not null,
    model varchar,
    rows_checked bigint,
    seconds double,
    success boolean,
    descriptions json,
    gx_result json
);
"""


class WarehouseBusy(RuntimeError):
    """Another newsetl process is writing this warehouse."""


def connect(path: Path | str, *, read_only: bool = False, wait_seconds: float = 5.0) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file (or ':memory:') with the project's settings.

    Opened to read, a file that a writer holds is tried again for up to `wait_seconds`: a run writes into the
    published file for a few milliseconds after it publishes (its timings; the history of a run that did not
    copy its file over), and a reader opening it just then met 'Could not set lock'."""
    if str(path) != ":memory:" and not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # DuckDB would cache up to 80% of the machine's memory; a run's memory should not grow with the
    # warehouse (the analyzer alone takes ~0.5 GB beside it). Past the limit it spills to <db>.tmp/.
    config = {**_CONFIG, "memory_limit": _memory()}
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as err:
            if not read_only or "Could not set lock" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _memory() -> str:
    return os.environ.get("NEWSETL_DUCKDB_MEMORY", "512MB")


def fits_in_cache(path: Path) -> bool:
    """Whether the whole file (none yet counts as empty) is smaller than DuckDB's memory limit
    (NEWSETL_DUCKDB_MEMORY)."""
    return not path.exists() or path.stat().st_size <= size_bytes(_memory())


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def size_bytes(text: str) -> float:
    """'512MB', '1.5GiB' (DuckDB's units) in bytes; infinity for what is not a size ('none', '80%')."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*", text.lower())
    return float(match[1]) * _UNITS[match[2] or ""] if match else math.inf


@contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """Hold DuckDB's cache to `limit` within the block (lowering it evicts what it holds), then return to the
    project's limit. A limit DuckDB cannot reach at once (memory in use, not cached), or one above the
    project's (NEWSETL_DUCKDB_MEMORY set lower), leaves it as it was."""
    if size_bytes(limit) >= size_bytes(_memory()):
        yield
        return
    try:
        con.execute(f"set memory_limit = '{limit}'")
    except duckdb.Error:
        yield
        return
    try:
        yield
    finally:
        con.execute(f"set memory_limit = '{_memory()}'")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    con.execute(RAW_DDL)
    # Columns added after the first release: older warehouses gain them here (never renamed or dropped).
    con.execute("alter table audit.pipeline_runs add column if not exists timings json")


_held: dict[str, int] = {}  # lock path -> depth: re-entrant within one process (backfill holds it across runs)


@contextmanager
def writer_lock(lock_path: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the single-writer lock of a warehouse, or raise WarehouseBusy with who holds it."""
    key = str(lock_path.resolve())
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                    raise WarehouseBusy(
                        f"{lock_path.with_suffix('')} is being written by pid {holder}; "
                        "wait for that run to finish (or pass --wait SECONDS)"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _held[key] = 1
        yield
    finally:
        _held.pop(key, None)
        os.close(fd)  # closing the descriptor releases the flock


# What DuckDB says when it opens a file with a block that a write cut short left torn (the kernel ends a write
# at a page boundary when SIGKILL arrives: a run killed while DuckDB checkpointed its work file left it so).
_TORN = ("Corrupt database file", "Failure while replaying WAL")


def torn(path: Path) -> str | None:
    """DuckDB's first line on why the file at `path` does not open, when a write cut short damaged it; None when
    it opens. Any other failure to open it is raised."""
    try:
        connect(path, read_only=True, wait_seconds=0).close()
    except duckdb.Error as err:
        if any(sign in str(err) for sign in _TORN):
            return str(err).splitlines()[0]
        raise
    return None


def prepare_work_file(published: Path, work: Path) -> str | None:
    """Start the work file from the published warehouse when there is none yet.

    A work file that no longer opens (see torn; ~35 ms to find out) would fail every run after the one killed
    while writing it. It is set aside, not deleted, as <work>.torn-<time> with its write-ahead log, and the run
    starts again from the published file: the files that only the set-aside file had read are not in the
    published raw.files, so the run reads them again. Returns what to tell the user, when that happened."""
    told = None
    if work.exists():
        reason = torn(work)
        if reason:
            aside = work.with_name(f"{work.name}.torn-{time.strftime('%Y%m%dT%H%M%S')}")
            for suffix in ("", ".wal"):
                if work.with_name(work.name + suffix).exists():
                    os.replace(work.with_name(work.name + suffix), aside.with_name(aside.name + suffix))
            told = (f"{work} did not open ({reason}); set aside as {aside.name}, and this run starts again from "
                    f"{published if published.exists() else 'an empty warehouse'}")
    if work.exists() or not published.exists():
        return told
    tmp = work.with_name(work.name + ".tmp")
    shutil.copyfile(published, tmp)
    os.replace(tmp, work)
    return told


def publish(work: Path, published: Path, *, move: bool = False) -> None:
    """Replace the published warehouse with a copy of the (checkpointed, closed) work file.

    os.replace is atomic: a reader opens either the old file or the new one, never a mix,
    and readers that already hold the old file keep reading it.

    `move` publishes the work file itself, without copying it (~0.6 s at 10k articles): the next run
    starts from a copy of the published file (prepare_work_file), which a resident process
    (`newsetl watch`) takes while it waits for new files. A work file with a write-ahead log beside
    it (not checkpointed) is copied all the same: the log belongs to it and must not meet the copy.
    """
    begin_publish(work, published, move=move)()


def begin_publish(work: Path, published: Path, *, move: bool = False) -> Callable[..., None]:
    """publish, in two halves: the copy and its fsync start now, on a thread (the kernel does both, without
    the GIL), and the function returned waits for them and swaps the copy in; `finish(swap=False)` drops it
    instead. Until then the work file may be read, not written. A run writes its report meanwhile: at 10k
    articles the copy and its fsync took 0.2-0.6 s, the report ~0.5 s."""
    ready = work
    if not move or work.with_name(work.name + ".wal").exists():
        ready = published.with_name(published.name + ".publishing")
    failed: list[BaseException] = []

    def copy() -> None:
        try:
            if ready != work:
                shutil.copyfile(work, ready)
            with open(ready, "rb") as fh:
                os.fsync(fh.fileno())
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread, by finish
            failed.append(exc)

    copying = threading.Thread(target=copy, name="newsetl-publish", daemon=True)
    copying.start()

    def finish(swap: bool = True) -> None:
        copying.join()
        if failed or not swap:
            if ready != work:
                ready.unlink(missing_ok=True)
            if failed:
                raise failed[0]
            return
        os.replace(ready, published)

    return finish


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".", 1)
    return bool(scalar(
        con, "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name]))


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The single value of a query. fetchall, not fetchone: DuckDB 2 keeps a half-read result
    open and refuses other work on the connection (register, unregister) until it is drained."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None
