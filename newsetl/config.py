"""Settings of a newsetl run: where things are and the limits that decide quarantine.

Every value has a default that works from the project root; environment variables
(NEWSETL_*) and CLI flags override them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = Path("warehouse") / "newsetl.duckdb"


def cache_dir() -> Path:
    """Where newsetl keeps what it can compute again but would rather not (parsed SQL, the recognizer's
    context look-ups): NEWSETL_CACHE_DIR, else $XDG_CACHE_HOME/newsetl or ~/.cache/newsetl."""
    base = os.environ.get("NEWSETL_CACHE_DIR")
    return Path(base) if base else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsetl"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name}={value!r}: a whole number of articles, 1 or more")
    return int(value)


@dataclass(frozen=True)
class Settings:
    db: Path = field(default_factory=lambda: _env_path("NEWSETL_DB", DEFAULT_DB))
    sources: tuple[Path, ...] = field(default_factory=lambda: (PROJECT_ROOT / "seeds" / "articles",))
    sql_dir: Path = PROJECT_ROOT / "sql"
    reference_dir: Path = PROJECT_ROOT / "seeds" / "reference"
    expectations_dir: Path = PROJECT_ROOT / "expectations"
    # Quarantine limits (issue 3): each a setting, not a constant buried in code.
    max_file_bytes: int = 10_000_000  # larger files (a .jsonl line, for feeds) are too_large
    min_published_year: int = 1990  # a publication date before 1990-01-01 is implausible_date
    max_future_days: int = 1  # ... and so is one after today + 1 day (time zones, embargoes)
    extensions: tuple[str, ...] = (".txt", ".json", ".jsonl", ".html", ".htm", ".csv", ".xlsx")  # else unsupported_format
    # Near-duplicate detection: MinHash over word shingles of the cleaned body, LSH bands to find candidates.
    # Estimated Jaccard at or above which a re-post is a duplicate: in a 100k corpus re-posts scored 0.47-1.0
    # (99.9 % above 0.58) and unrelated bodies at most 0.34, on shared filler sentences.
    near_duplicate_threshold: float = 0.45
    minhash_permutations: int = 128
    minhash_bands: int = 32  # 32 bands of 4 rows: a pair at 0.6 is a candidate with p = 0.98, at 0.7 p > 0.999
    shingle_words: int = 3
    # Analysis batches: small enough to stream, large enough to keep kiwi busy.
    batch_articles: int = field(default_factory=lambda: _env_int("NEWSETL_BATCH_ARTICLES", 500))
    # Python models stream: they read, analyse and write this many articles (at least a few batches per
    # worker) at a time, so a run's memory does not grow with the size of its input.
    stream_articles: int = field(default_factory=lambda: _env_int("NEWSETL_STREAM_ARTICLES", 2000))
    # Workers the analysis is shared among (kiwi threads, Dask workers): chunks hold work for each.
    workers: int = field(default_factory=lambda: _env_int("NEWSETL_WORKERS", max(1, min(os.cpu_count() or 1, 8))))
    full_refresh: bool = False
    select: tuple[str, ...] = ()

    @property
    def reports_dir(self) -> Path:
        return self.db.parent / "reports"

    @property
    def work_db(self) -> Path:
        """The file runs write into; the published `db` is replaced by a copy of it on publish."""
        return self.db.with_name(self.db.stem + ".work" + self.db.suffix)

    @property
    def lock_path(self) -> Path:
        return self.db.with_name(self.db.name + ".lock")

    def plausible_dates(self, today: date | None = None) -> tuple[date, date]:
        """First and last publication day that is not implausible_date."""
        today = today or date.today()
        return date(self.min_published_year, 1, 1), today + timedelta(days=self.max_future_days)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)
