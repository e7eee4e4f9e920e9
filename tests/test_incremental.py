"""Incremental runs: a warehouse fed day by day holds what one run over everything would build."""

from __future__ import annotations

import shutil

from conftest import ROOT, newsetl, query

SAMPLES = sorted((ROOT / "seeds" / "articles").iterdir())
CANDIDATES = """
    select regexp_extract(a.source_path, '[^/]+$') as file, c.sentence_idx, c.event_type, c.trigger_start,
           c.event_date, c.status, c.evidence,
           list_sort(list_transform(c.participants, lambda p: p.entity_key || ':' || p.role)) as participants
    from intermediate.int_event_candidates as c
    inner join intermediate.int_articles__deduplicated as a on c.article_id = a.article_id
    order by all
"""


def test_events_of_a_two_step_feed_equal_those_of_one_run(sample_run, tmp_path):
    whole, _ = sample_run
    source = tmp_path / "feed"
    source.mkdir()
    db = tmp_path / "w" / "newsetl.duckdb"
    for path in SAMPLES[:2]:
        shutil.copy(path, source / path.name)
    first = newsetl("run", "--source", str(source), "--db", str(db))
    assert first.returncode == 0, first.stderr
    kept = query(db, "select article_id, count(*) from intermediate.int_event_candidates group by 1 order by 1")
    assert kept and query(db, "select count(*) from intermediate.int_event_candidates__inputs") == [(2,)]

    for path in SAMPLES[2:]:
        shutil.copy(path, source / path.name)
    second = newsetl("run", "--source", str(source), "--db", str(db))
    assert second.returncode == 0, second.stderr
    built = query(db, "select mode, rows_written from audit.model_state "
                      "where model = 'intermediate.int_event_candidates'")
    assert built[0][0] == "incremental"
    # only the three new articles were read, and the rows of the first two are the ones they had
    assert built[0][1] == query(db, "select count(*) from intermediate.int_event_candidates where article_id not in "
                                    f"({', '.join(repr(a) for a, _ in kept)})")[0][0] + 3
    assert query(db, CANDIDATES) == query(whole, CANDIDATES)
    assert query(db, "select count(*) from marts.fct_event") == query(whole, "select count(*) from marts.fct_event")


def test_streaming_in_chunks_of_two_articles_builds_the_same_warehouse(sample_run, tmp_path):
    whole, _ = sample_run
    db = tmp_path / "chunks" / "newsetl.duckdb"
    # batches of 1 article, chunks of 2 batches for 1 worker: the 5 articles are read and written in 3 chunks
    result = newsetl("run", "--db", str(db), env={"NEWSETL_BATCH_ARTICLES": "1", "NEWSETL_STREAM_ARTICLES": "1",
                                                  "NEWSETL_WORKERS": "1"})
    assert result.returncode == 0, result.stderr
    for sql in (CANDIDATES,
                "select article_id, duplicate_of, published_date from marts.dim_article order by all",
                "select article_id, sentence_idx, char_start, entity_id from marts.fct_entity_mention order by all",
                "select body_sha, near_duplicate_of_sha from intermediate.int_article_signatures order by all"):
        assert query(db, sql) == query(whole, sql), sql
