"""End to end on a generated corpus: the pipeline's events against the generator's gold (bench/score_corpus_events.py).

Needs ../shared/corpus (the generator) and its KLUE filler; about two minutes.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SHARED, newsetl, query

from newsetl.config import Settings

GENERATOR = SHARED / "corpus" / "make_corpus.py"
# Measured on this corpus (150 articles, seed 2025): F1 0.98-0.99, dates right 0.99-1.0, every
# near-duplicate copy in its source's event but one; the floors leave a margin for the entity layer.
F1_FLOOR = 0.93
DATES_FLOOR = 0.95
NEAR_DUPLICATE_FLOOR = 0.9

pytestmark = pytest.mark.skipif(not GENERATOR.exists(), reason="needs ../shared/corpus/make_corpus.py")


def _scorer():
    spec = importlib.util.spec_from_file_location("score_corpus_events", ROOT / "bench" / "score_corpus_events.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> tuple[Path, Path]:
    corpus = tmp_path_factory.mktemp("corpus") / "c"
    made = subprocess.run([sys.executable, str(GENERATOR), str(corpus), "--articles", "150", "--seed", "2025"],
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    db = corpus.parent / "newsetl.duckdb"
    result = newsetl("run", "--source", str(corpus / "raw"), "--db", str(db), timeout=1200)
    if result.returncode == 0:
        return corpus, db
    # not published: the events are still judged on the built warehouse, unless an event check blocked it
    work = Settings(db=db).work_db
    assert result.returncode == 1 and work.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    blocking = query(work, """select distinct suite from audit.validation_results
                              where severity = 'error' and not success
                                and run_id = (select max(run_id) from audit.validation_results)""")
    assert not [s for (s,) in blocking if "event" in s or s.startswith("agg_")], blocking
    return corpus, work


def test_events_match_the_gold_of_a_generated_corpus(corpus_run):
    corpus, db = corpus_run
    result = _scorer().score(db, corpus)
    assert result["articles_mapped"] == result["articles"] == 150
    events = result["events"]
    assert events["f1"] >= F1_FLOOR, events
    assert events["precision"] >= F1_FLOOR and events["recall"] >= F1_FLOOR, events
    assert result["event_dates_right_share"] >= DATES_FLOOR, result["event_dates_right"]
    assert result["status_right_share"] >= DATES_FLOOR and result["mode_right_share"] >= DATES_FLOOR
    for event_type in ("CONSULT", "AGREE", "SANCTION", "COOPERATE", "INVEST"):
        assert result["per_type"][event_type]["f1"] >= 0.85, (event_type, result["per_type"][event_type])


def test_each_multiply_reported_event_is_counted_once(corpus_run):
    corpus, db = corpus_run
    clusters = _scorer().score(db, corpus)["clusters"]
    assert clusters["near_duplicate_events"] > 5  # the corpus does re-post articles
    assert clusters["near_duplicate_events_same_cluster"] >= NEAR_DUPLICATE_FLOOR * clusters["near_duplicate_events"]
    assert clusters["events_absorbing_several_gold_events"] <= 2
    # one row per real-world event: about as many matched events as distinct gold events, not one per report
    assert clusters["predicted_events_matched"] <= clusters["gold_events_distinct"]
    assert clusters["predicted_events_matched"] >= 0.9 * clusters["gold_events_distinct"]


def test_event_marts_hold_together(corpus_run):
    import duckdb

    _, db = corpus_run
    with duckdb.connect(str(db), read_only=True) as con:
        from_copies = con.execute("""select count(*) from marts.fct_event_mention m
                                     join marts.dim_article a using (article_id)
                                     where a.duplicate_of is not null""").fetchone()[0]
        copies = con.execute("select count(*) from marts.dim_article where duplicate_of is not null").fetchone()[0]
        primaries = con.execute("""select count(*) from marts.fct_event e
                                   left join marts.fct_event_mention m on e.event_id = m.event_id and m.is_primary
                                   where m.event_id is null""").fetchone()[0]
        timeline = con.execute("select sum(events + events_background + events_negated_or_hypothetical) "
                               "from marts.agg_event_timeline").fetchone()[0]
        placeable = con.execute("""select count(*) from marts.fct_event
                                   where date_precision in ('day', 'month') or first_reported_date is not null""").fetchone()[0]
        pairs = con.execute("""select count(*) from marts.agg_entity_cooccurrence
                               where entity_id_a >= entity_id_b or event_count < party_event_count""").fetchone()[0]
    assert copies > 5 and from_copies == 0  # a re-post found upstream reports nothing twice
    assert primaries == 0
    assert timeline == placeable  # every event with a month of its own or of its first report sits in one
    assert pairs == 0
