"""Airflow-style backfills: one pipeline run per day of a window, in order, resumable.

Feeds often land as one folder or file per day (`landing/2025-10-29/`, `landing/20251029/`,
BigKinds' `NewsResult_20251029-20251029.xlsx`). A day already done with the same input is
skipped; a day whose input changed is run again (changed files become new article versions).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from newsetl import warehouse
from newsetl.config import Settings

_DAY_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
BACKFILL_DDL = """
create table if not exists audit.backfill_days (
    day date not null,
    source_root varchar not null,
    fingerprint varchar,
    files integer,
    run_id varchar,
    status varchar not null,  -- success | failed | error | no_input
    finished_at timestamp,
    primary key (day, source_root)
)
"""


@dataclass
class DayResult:
    day: date
    status: str  # success | failed | error | skipped | no_input
    files: int
    run_id: str | None = None
    message: str | None = None


def days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _name_day(name: str) -> date | None:
    match = _DAY_IN_NAME.search(name)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def inputs_by_day(root: Path) -> dict[date, list[Path]]:
    """Top-level folders and files of root whose name carries a date (the first one in the name)."""
    found: dict[date, list[Path]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        day = _name_day(entry.name)
        if day:
            found.setdefault(day, []).append(entry)
    return found


def fingerprint(paths: list[Path]) -> tuple[str, int]:
    """A hash of every file's path, size and mtime under the day's inputs, and the file count."""
    digest = hashlib.sha256()
    count = 0
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            st = file.stat()
            digest.update(f"{file}\x1f{st.st_size}\x1f{st.st_mtime_ns}\n".encode())
            count += 1
    return digest.hexdigest()[:32], count


def _done(settings: Settings, root: Path) -> dict[date, str]:
    """Days already completed for this root, with their input fingerprints (from the work file)."""
    path = settings.work_db if settings.work_db.exists() else settings.db
    if not path.exists():
        return {}
    with warehouse.connect(path, read_only=True) as con:
        if not warehouse.table_exists(con, "audit.backfill_days"):
            return {}
        rows = con.execute("select day, fingerprint from audit.backfill_days where source_root = ? "
                           "and status in ('success', 'no_input')", [str(root)]).fetchall()
    return dict(rows)


def _record(settings: Settings, root: Path, result: DayResult, print_: str | None) -> None:
    warehouse.prepare_work_file(settings.db, settings.work_db)
    with warehouse.connect(settings.work_db) as con:
        warehouse.ensure_schema(con)
        con.execute(BACKFILL_DDL)
        con.execute("insert or replace into audit.backfill_days values (?, ?, ?, ?, ?, ?, ?)",
                    [result.day, str(root), print_, result.files, result.run_id, result.status, datetime.now()])


def backfill(settings: Settings, root: Path, start: date, end: date, *, force: bool = False,
             run_day: Callable[[Settings], object], say: Callable[[str], None] = lambda m: None) -> list[DayResult]:
    """Run `run_day` once per day with that day's inputs as sources; stop at the first failed day."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    by_day = inputs_by_day(root)
    done = {} if force else _done(settings, root)
    results: list[DayResult] = []
    for day in days(start, end):
        paths = by_day.get(day, [])
        print_, count = fingerprint(paths)
        if not paths:
            result = DayResult(day, "no_input", 0)
            _record(settings, root, result, None)
            results.append(result)
            continue
        if done.get(day) == print_:
            results.append(DayResult(day, "skipped", count))
            say(f"{day}: already done ({count} files unchanged)")
            continue
        say(f"{day}: running on {count} files")
        summary = run_day(settings.with_(sources=tuple(paths)))
        result = DayResult(day, summary.status, count, summary.run_id, summary.message)
        _record(settings, root, result, print_ if summary.status == "success" else None)
        results.append(result)
        if summary.status != "success":
            say(f"{day}: {summary.status}: {summary.message or ''} (stopping; rerun to resume from this day)")
            break
    return results
