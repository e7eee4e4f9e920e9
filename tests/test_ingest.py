"""Ingest into a real DuckDB file: every file becomes articles or quarantine rows, and re-runs add nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsetl import warehouse
from newsetl.config import Settings
from newsetl.ingest import SourceError, ingest

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
