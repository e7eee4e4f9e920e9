"""Ingest into a real DuckDB file: every file becomes articles or quarantine rows, and re-runs add nothing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from newsetl import warehouse
from newsetl.config import Settings
from newsetl.ingest import SourceError, files_to_read, ingest, iter_files, sources_state

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "articles"


def _run(tmp_path: Path, source: Path, run_id: str = "r1"):
    settings = Settings().with_(db=tmp_path / "w.duckdb", sources=(source,))
    with warehouse.connect(settings.db) as con:
        warehouse.ensure_schema(con)
        stats = ingest(con, settings, run_id)
        articles = con.execute("select source_path, body, metadata from raw.articles order by source_path").fetchall()
        quarantine = con.execute("select source_path, reason, detail from raw.quarantine order by source_path").fetchall()
    return stats, articles, quarantine


def test_bad_files_are_quarantined_and_good_ones_kept(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text("date 2025-10-29\n한국과 미국이 반도체 협력을 강화하기로 했다.\n", encoding="utf-8")
    (src / "empty.txt").write_bytes(b"")
    (src / "broken.txt").write_bytes("한국과 미국".encode() + b"\xff\xfe\xed\xa0\x80\xc3\x28")
    (src / "notes.docx").write_bytes(b"PK\x03\x04junk")
    (src / "old.txt").write_text("---\ntitle: 옛 기사\npublished_at: 1890-03-01\n---\n한국과 미국이 회담했다.\n",
                                 encoding="utf-8")
    stats, articles, quarantine = _run(tmp_path, src)
    assert [Path(p).name for p, _, _ in articles] == ["good.txt"]
    assert articles[0][1].startswith("한국과 미국이")  # the date line is metadata, not body
    reasons = {Path(p).name: r for p, r, _ in quarantine}
    assert reasons == {"empty.txt": "empty", "broken.txt": "undecodable", "notes.docx": "unsupported_format",
                       "old.txt": "implausible_date"}
    assert all(detail for _, _, detail in quarantine)
    assert stats.files_seen == 5 and stats.articles_new == 1 and stats.quarantined_new == 4


def test_reingest_adds_nothing_and_a_changed_file_is_a_new_version(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    target = src / "a.txt"
    target.write_text("미국이 중국에 대한 수출 통제를 발표했다.\n", encoding="utf-8")
    first, _, _ = _run(tmp_path, src, "r1")
    second, articles, _ = _run(tmp_path, src, "r2")
    assert (first.articles_new, second.articles_new, len(articles)) == (1, 0, 1)
    target.write_text("미국이 중국에 대한 수출 통제를 강화했다.\n", encoding="utf-8")
    third, articles, _ = _run(tmp_path, src, "r3")
    assert third.articles_new == 1 and len(articles) == 2  # the old version stays


def test_sample_ingests_five_articles(tmp_path):
    stats, articles, quarantine = _run(tmp_path, SAMPLE)
    assert (stats.articles_new, len(articles), quarantine) == (5, 5, [])


def test_missing_source_raises_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no such file or folder"):
        _run(tmp_path, tmp_path / "missing")


def _rows(db: Path, sql: str) -> list[tuple]:
    with warehouse.connect(db) as con:
        return con.execute(sql).fetchall()


def test_one_bad_record_costs_only_itself_and_details_name_it_once(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = '{"id": "%s", "source": "연합뉴스", "published_at": "2025-10-29 09:00", "body": "미국이 수출 통제를 강화했다."}'
    lines = [good % "g1", good % "g2", good[:40], good.replace("2025-10-29", "2099-07-15") % "late", good % "g3",
             '{"id": "chrome", "published_at": "2025-10-29", "body": "기사 스크랩\\n공유\\nⓒ 연합뉴스, 무단전재 및 재배포 금지"}']
    (src / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    stats, articles, _ = _run(tmp_path, src)
    assert stats.articles_new == 3 and stats.records_read == 6
    rows = _rows(tmp_path / "w.duckdb", "select source_record, reason, detail from raw.quarantine order by 1")
    assert [(r, reason) for r, reason, _ in rows] == [(2, "unparsable"), (3, "implausible_date"), (5, "boilerplate_only")]
    details = [d for _, _, d in rows]
    assert details[0].startswith("line 3: JSON ends") and "record" not in details[0]  # the reader's words, once
    assert details[1] == "line 4: publication date 2099-07-15 (from the metadata) is outside " \
                         f"1990-01-01..{(date.today() + timedelta(days=1)).isoformat()}"
    assert details[2].startswith("line 6: nothing is left after removing page chrome")


def test_limits_are_settings(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "big.txt").write_text("미국이 수출 통제를 강화했다. " * 50, encoding="utf-8")
    (src / "page.html").write_text("<html><body><p>한국과 미국이 회담했다.</p></body></html>", encoding="utf-8")
    (src / "old.txt").write_text("---\npublished_at: 1995-05-01\n---\n한국과 미국이 회담했다.\n", encoding="utf-8")
    settings = Settings().with_(db=tmp_path / "w.duckdb", sources=(src,), max_file_bytes=1000,
                                extensions=(".txt",), min_published_year=2000)
    with warehouse.connect(settings.db) as con:
        warehouse.ensure_schema(con)
        stats = ingest(con, settings, "r1")
        rows = con.execute("select regexp_extract(source_path, '[^/]+$'), reason, detail from raw.quarantine "
                           "order by 1").fetchall()
    assert stats.articles_new == 0
    assert [(name, reason) for name, reason, _ in rows] == [
        ("big.txt", "too_large"), ("old.txt", "implausible_date"), ("page.html", "unsupported_format")]
    assert rows[0][2] == "2,050 bytes is over the 1,000-byte limit"
    assert rows[2][2].startswith("extension .html is not one of .txt")


def test_a_file_that_cannot_be_read_is_quarantined_and_the_run_goes_on(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "gone.txt").symlink_to(src / "missing.txt")
    (src / "ok.txt").write_text("미국이 수출 통제를 강화했다.\n", encoding="utf-8")
    stats, articles, quarantine = _run(tmp_path, src)
    assert [Path(p).name for p, _, _ in articles] == ["ok.txt"]
    assert [(Path(p).name, r, d) for p, r, d in quarantine] == [("gone.txt", "unreadable",
                                                                   "cannot be read: No such file or directory")]


def test_a_file_changed_back_is_a_new_version_and_reading_it_again_adds_nothing(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    target = src / "a.txt"
    first, second = "미국이 중국에 대한 수출 통제를 발표했다.\n", "미국이 중국에 대한 수출 통제를 강화한다고 밝혔다.\n"
    counts = []
    for run_id, text in (("r1", first), ("r2", second), ("r3", first), ("r4", first)):
        target.write_text(text, encoding="utf-8")
        stats, _, _ = _run(tmp_path, src, run_id)
        counts.append((stats.articles_new, stats.versions_new, stats.articles_known))
    assert counts == [(1, 0, 0), (1, 1, 0), (1, 1, 0), (0, 0, 1)]
    rows = _rows(tmp_path / "w.duckdb", "select article_id, content_sha256, run_id from raw.articles order by ingested_at")
    assert [r[2] for r in rows] == ["r1", "r2", "r3"]
    assert rows[0][1] == rows[2][1] and rows[0][0] != rows[2][0]  # same bytes, another version: another id


def test_files_to_read_names_the_files_the_next_ingest_reads_without_reading_them(tmp_path, monkeypatch):
    # what `newsetl run` looks at before its flow starts, to load an analyzer early for a few new files and
    # analyse their texts ahead
    import os

    landing = tmp_path / "landing"
    landing.mkdir()
    first = landing / "a.txt"
    first.write_text("제목\n\n한국과 미국이 반도체 협력을 강화했다.", encoding="utf-8")
    (landing / "b.txt").write_text("제목\n\n일본이 수출 규제를 발표했다.", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    assert _names(files_to_read([landing], db)) == {"a.txt", "b.txt"}  # no warehouse yet: every file
    _run(tmp_path, landing)
    assert files_to_read([landing], db) == []

    os.utime(first, ns=(0, first.stat().st_mtime_ns + 10**9))  # rewritten
    (landing / "new").mkdir()
    (landing / "new" / "c.txt").write_text("제목\n\n중국이 희토류 수출을 통제했다.", encoding="utf-8")
    (landing / ".partial.txt").write_text("쓰는 중", encoding="utf-8")  # hidden: never read
    # the file never read first: a changed one is often only touched, its text analysed already
    assert [Path(p).name for p in files_to_read([landing], db)] == ["c.txt", "a.txt"]
    # a relative source names the same files as the absolute paths ingest records
    monkeypatch.chdir(tmp_path)
    assert files_to_read([Path("landing")], db) == files_to_read([landing], db)
    assert all(Path(p).is_absolute() for p in files_to_read([Path("landing")], db))
    stats, _, _ = _run(tmp_path, landing, "r2")
    assert stats.files_read == 2
    assert files_to_read([landing], db) == []
    assert files_to_read([tmp_path / "gone"], db) is None  # ingest itself names a missing source


def _names(paths: list[str] | None) -> set[str]:
    return {Path(p).name for p in paths}


def test_the_sources_state_changes_exactly_when_ingest_would_read_something(tmp_path):
    # what `newsetl watch` compares between runs
    import os

    landing = tmp_path / "landing"
    (landing / "2025-10-29").mkdir(parents=True)
    article = landing / "2025-10-29" / "a.txt"
    article.write_text("제목\n\n본문입니다.", encoding="utf-8")
    state = sources_state([landing])
    assert sources_state([landing]) == state
    (landing / ".partial.txt").write_text("쓰는 중", encoding="utf-8")  # hidden files are never read
    assert sources_state([landing]) == state

    os.utime(article, ns=(0, article.stat().st_mtime_ns + 10**9))  # rewritten, same size
    touched = sources_state([landing])
    assert touched != state
    (landing / "2025-10-30").mkdir()
    (landing / "2025-10-30" / "b.txt").write_text("새 기사", encoding="utf-8")
    added = sources_state([landing])
    assert added != touched
    (landing / "2025-10-30" / "b.txt").unlink()
    assert sources_state([landing]) == touched
    # a file in a hidden folder is read by ingest (only hidden files are skipped): it counts
    (landing / ".late").mkdir()
    (landing / ".late" / "c.txt").write_text("늦은 기사", encoding="utf-8")
    assert landing / ".late" / "c.txt" in set(iter_files([landing]))
    assert sources_state([landing]) != touched
    with pytest.raises(SourceError, match="no such file or folder"):
        sources_state([tmp_path / "gone"])
