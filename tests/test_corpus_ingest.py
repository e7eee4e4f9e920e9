"""A generated corpus with faults, through ingest and the cleaning and deduplication models.

The corpus comes from ../shared/corpus/make_corpus.py (400 articles, --faults) and is scored by
bench/ingest_accounting.py, the benchmark that runs the same checks at full size.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from newsetl import warehouse
from newsetl.config import Settings
from newsetl.ingest import ingest

ROOT = Path(__file__).resolve().parent.parent
MAKE_CORPUS = ROOT.parent / "shared" / "corpus" / "make_corpus.py"
EXPECTED_REASON = {
    "empty_file": "empty", "whitespace_only": "empty", "binary_junk": "binary",
    "unsupported_extension": "unsupported_format", "truncated_json_line": "unparsable",
    "invalid_utf8": "undecodable", "oversized": "too_large", "boilerplate_only": "boilerplate_only",
    "future_date": "implausible_date", "absurd_date": "implausible_date",
}


def _bench():
    spec = importlib.util.spec_from_file_location("ingest_accounting", ROOT / "bench" / "ingest_accounting.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    if not MAKE_CORPUS.exists():
        pytest.skip("../shared/corpus/make_corpus.py is not there")
    out = tmp_path_factory.mktemp("corpus")
    corpus = out / "corpus"
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(corpus), "--articles", "400", "--seed", "7", "--faults"],
                   check=True, capture_output=True)
    bench = _bench()
    db = out / "w.duckdb"
    bench.build(corpus, db)
    with duckdb.connect(str(db), read_only=True) as con:
        figures = bench.score(con, corpus)
    return corpus, db, figures


def test_every_file_is_accounted_for(corpus_run):
    _, _, figures = corpus_run
    files, rows = figures["files"], figures["rows"]
    assert (files["problems"], files["unknown"]) == ([], [])
    assert files["accounted"] == files["in_manifest"] == 357
    assert rows["quarantine_reasons"] == {"binary": 1, "boilerplate_only": 1, "empty": 2, "implausible_date": 2,
                                          "too_large": 1, "undecodable": 1, "unparsable": 1, "unsupported_format": 1}
    assert rows["raw_articles"] == rows["dim_article"] == 479


def test_each_fault_gets_its_reason_and_a_one_line_detail(corpus_run):
    corpus, db, _ = corpus_run
    manifest = (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    faults = {e["path"]: e for e in map(json.loads, manifest) if e["kind"] == "fault"}
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select source_path, source_record, reason, detail from raw.quarantine").fetchall()
    got = {str(Path(p).relative_to(corpus)): (r, reason, detail) for p, r, reason, detail in rows}
    for path, entry in faults.items():
        if entry["expected"] == "ingest" and entry["fault"] != "truncated_json_line":
            assert path not in got, path
            continue
        record, reason, detail = got[path]
        assert reason == EXPECTED_REASON[entry["fault"]], path
        assert detail and "\n" not in detail and len(detail) <= 300
    record, _, detail = got["raw/jsonl/feed_partial_00001.jsonl"]
    assert record == 17 and detail.startswith("line 18: ") and detail.count("line 18") == 1


def test_duplicates_are_found_and_no_story_is_counted_twice(corpus_run):
    _, _, figures = corpus_run
    dup = figures["duplicates"]
    for kind in ("exact", "near"):
        assert dup[kind]["precision"] >= 0.95 and dup[kind]["recall"] >= 0.95, (kind, dup[kind])
    assert (dup["exact"]["pairs_gold"], dup["near"]["pairs_gold"]) == (18, 33)
    assert dup["stories_with_two_originals"] == 0
    assert dup["flagged"] == dup["expected_flagged"] == {"exact": 17, "near": 28}


def test_cleaning_keeps_gold_text_and_finds_title_publisher_and_date(corpus_run):
    _, _, figures = corpus_run
    c = figures["cleaning"]
    assert c["event_sentences"] > 1000 and c["event_sentences_intact"] == 1.0
    assert c["title_right"] == 1.0 and c["title_wrong"] == 0
    assert c["publisher_wrong"] == 0 and c["publisher_right"] >= 0.9
    assert c["date_wrong"] == 0 and c["date_right"] >= 0.88
    assert set(c["date_sources"]) == {"metadata", "text", "inferred"}


def test_reading_the_corpus_again_adds_nothing(corpus_run, tmp_path):
    corpus, db, _ = corpus_run
    copy = tmp_path / "again.duckdb"
    copy.write_bytes(db.read_bytes())
    settings = Settings().with_(db=copy, sources=(corpus / "raw",))
    with warehouse.connect(copy) as con:
        unchanged = ingest(con, settings, "again")
        forced = ingest(con, settings.with_(full_refresh=True), "forced")
    assert (unchanged.files_unchanged, unchanged.articles_new, unchanged.quarantined_new) == (357, 0, 0)
    assert (forced.files_read, forced.articles_new, forced.quarantined_new, forced.articles_known) == (357, 0, 0, 479)
