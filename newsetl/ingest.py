"""Files to raw.articles and raw.quarantine: every input file ends up as articles or quarantine rows.

Ingest is append-only and idempotent: an article's id hashes its path, record index and
bytes, so re-reading the same files adds nothing, and a changed file becomes a new
version beside the old row. Files whose size and mtime are unchanged since they were
last read are not read again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from newsetl import clean, dates
from newsetl.config import Settings
from newsetl.formats import Record, Rejected, read_file
from newsetl.warehouse import scalar

ARTICLE_COLUMNS = ("article_id", "source_path", "source_record", "content_sha256", "format", "encoding",
                   "raw_text", "title", "body", "metadata", "ingested_at", "run_id")
QUARANTINE_COLUMNS = ("source_path", "source_record", "reason", "detail", "bytes_sha256", "run_id",
                      "quarantined_at")
FILES_DDL = """
create table if not exists raw.files (
    source_path varchar primary key,
    size bigint,
    mtime_ns bigint,
    articles integer,
    quarantined integer,
    run_id varchar,
    read_at timestamp
)
"""


class SourceError(ValueError):
    """A --source that cannot be read at all (missing, not a folder or file)."""


@dataclass
class IngestStats:
    files_seen: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    articles_new: int = 0
    articles_known: int = 0
    quarantined_new: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def iter_files(sources: list[Path]) -> Iterator[Path]:
    """Every file under the sources, recursively, in a stable order; links never leave their source."""
    for source in sources:
        if not source.exists():
            raise SourceError(f"{source}: no such file or folder")
        root = source.resolve()
        if source.is_file():
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or (path.is_symlink() and not path.resolve().is_relative_to(root)):
                    continue
                yield path


def article_id(path: str, record: int | None, content_sha: str) -> str:
    return hashlib.sha256(f"{path}\x1f{record}\x1f{content_sha}".encode()).hexdigest()[:20]


def _published(meta: dict) -> date | None:
    for key in ("published_at", "date"):
        if meta.get(key):
            parsed = dates.parse_timestamp(str(meta[key]))
            if parsed:
                return parsed
    return None


def screen(record: Record, settings: Settings, today: date) -> tuple[str, str] | None:
    """Reasons a parsed record still cannot become an article (date out of range, nothing but chrome)."""
    published = _published(record.metadata)
    if published and (published.year < settings.min_published_year or published > today + timedelta(days=1)):
        return "implausible_date", f"publication date {published.isoformat()} is outside " \
                                   f"{settings.min_published_year}-01-01..{today + timedelta(days=1)}"
    if not clean.clean(record.body).body.strip():
        return "boilerplate_only", "nothing is left after removing page chrome, bylines, captions and copyright lines"
    return None


class _Writer:
    """Buffers rows and appends them to DuckDB as Arrow, skipping rows already there."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str, batch: int = 2000) -> None:
        self.con, self.run_id, self.batch = con, run_id, batch
        self.articles: list[tuple] = []
        self.quarantine: list[tuple] = []
        self.files: list[tuple] = []
        self.new_articles = self.new_quarantine = 0

    def flush(self) -> None:
        if self.articles:
            table = pa.Table.from_pylist([dict(zip(ARTICLE_COLUMNS, r)) for r in self.articles])
            self.new_articles += self._insert("raw.articles", table, "t.article_id = n.article_id")
            self.articles = []
        if self.quarantine:
            table = pa.Table.from_pylist([dict(zip(QUARANTINE_COLUMNS, r)) for r in self.quarantine])
            self.new_quarantine += self._insert(
                "raw.quarantine", table,
                "t.source_path = n.source_path and t.source_record is not distinct from n.source_record "
                "and t.bytes_sha256 is not distinct from n.bytes_sha256")
            self.quarantine = []
        if self.files:
            table = pa.Table.from_pylist([dict(zip(("source_path", "size", "mtime_ns", "articles", "quarantined",
                                                    "run_id", "read_at"), r)) for r in self.files])
            self.con.register("_files", table)
            self.con.execute("insert or replace into raw.files select * from _files")
            self.con.unregister("_files")
            self.files = []

    def _insert(self, target: str, table: pa.Table, match: str) -> int:
        self.con.register("_incoming", table)
        try:
            before = scalar(self.con, f"select count(*) from {target}")
            self.con.execute(f"""
                insert into {target} by name
                select * from (select distinct on ({', '.join(table.column_names[:2])}, {table.column_names[3]
                               if target == 'raw.articles' else 'bytes_sha256'}) * from _incoming) as n
                where not exists (select 1 from {target} as t where {match})
            """)
            return scalar(self.con, f"select count(*) from {target}") - before
        finally:
            self.con.unregister("_incoming")

    def maybe_flush(self) -> None:
        if len(self.articles) + len(self.quarantine) >= self.batch:
            self.flush()


def ingest(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str,
           progress: Callable[[int, IngestStats], None] | None = None) -> IngestStats:
    """Read every source file into raw.articles / raw.quarantine."""
    con.execute(FILES_DDL)
    known = {} if settings.full_refresh else {
        path: (size, mtime) for path, size, mtime in con.execute("select source_path, size, mtime_ns from raw.files").fetchall()
    }
    stats = IngestStats()
    writer = _Writer(con, run_id)
    now = datetime.now()
    today = now.date()
    for path in iter_files(list(settings.sources)):
        stats.files_seen += 1
        where = str(path)
        st = path.stat()
        if known.get(where) == (st.st_size, st.st_mtime_ns):
            stats.files_unchanged += 1
            continue
        stats.files_read += 1
        records, rejected = read_file(path, max_bytes=settings.max_file_bytes)
        kept = 0
        for rec in records:
            problem = screen(rec, settings, today)
            if problem:
                rejected.append(Rejected(rec.source_record, problem[0], problem[1], rec.content))
                continue
            kept += 1
            sha = rec.sha256
            writer.articles.append((
                article_id(where, rec.source_record, sha), where, rec.source_record, sha, rec.format, rec.encoding,
                rec.raw_text, rec.title, rec.body, json.dumps(rec.metadata, ensure_ascii=False, default=str),
                now, run_id,
            ))
        for rej in rejected:
            stats.reasons[rej.reason] = stats.reasons.get(rej.reason, 0) + 1
            detail = rej.detail if rej.source_record is None else f"record {rej.source_record}: {rej.detail}"
            writer.quarantine.append((where, rej.source_record, rej.reason, detail, rej.sha256, run_id, now))
        writer.files.append((where, st.st_size, st.st_mtime_ns, kept, len(rejected), run_id, now))
        writer.maybe_flush()
        if progress and stats.files_seen % 500 == 0:
            progress(stats.files_seen, stats)
    writer.flush()
    stats.articles_new = writer.new_articles
    stats.quarantined_new = writer.new_quarantine
    return stats
