"""SQL unit tests of the marts' logic: given rows per upstream table -> expected rows (newsetl.sqltest)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from newsetl.sqltest import SqlTestError, run_model

T1, T2 = datetime(2025, 10, 29, 9, 0), datetime(2025, 10, 30, 9, 0)


T3 = datetime(2025, 10, 31, 9, 0)


def cleaned(article_id: str, body_sha: str, source_path: str | None = None, **extra) -> dict:
    return {"article_id": article_id, "source_path": source_path or f"/in/{article_id}.txt",
            "title": "美 반도체 수출 통제 강화", "publisher": "연합뉴스", "reporters": ["김기자"], "body_sha": body_sha,
            "body": f"body {body_sha}", "subheads_sha": "", **extra}


def staged(article_id: str, ingested_at: datetime, source_record: int | None = None) -> dict:
    return {"article_id": article_id, "ingested_at": ingested_at, "source_record": source_record}


def test_latest_keeps_latest_versions_and_points_re_posts_at_the_original():
    rows = run_model("int_articles__latest", {
        "intermediate.int_articles__cleaned": [
            cleaned("a1", "X"),
            cleaned("a2", "X"),  # same body, outlet, byline and headline: a copy
            cleaned("a3", "X", publisher="뉴스1"),  # same body, another outlet: a re-post
            cleaned("a4", "Y"),  # its body near-duplicates X (signatures)
            cleaned("a5", "Z"),
            # one address read twice: the later version replaces the earlier one
            cleaned("v1", "V1", "/in/feed.jsonl"), cleaned("v2", "V2", "/in/feed.jsonl"),
        ],
        "staging.stg_articles": [
            staged("a1", T1), staged("a2", T2), staged("a3", T2), staged("a4", T2), staged("a5", T1),
            staged("v1", T1, 3), staged("v2", T3, 3),
        ],
        "intermediate.int_article_signatures": [
            {"body_sha": "Y", "near_duplicate_of_sha": "X", "similarity": 0.93},
        ],
    }, types={"staging.stg_articles": {"source_record": "integer"}})
    assert [(r["article_id"], r["version"], r["duplicate_of"], r["duplicate_kind"], r["duplicate_similarity"])
            for r in rows] == [
        ("a1", 1, None, None, None), ("a2", 1, "a1", "exact", 1.0), ("a3", 1, "a1", "near", 1.0),
        ("a4", 1, "a1", "near", 0.93), ("a5", 1, None, None, None), ("v2", 2, None, None, None)]
    assert rows[0]["ingested_at"] == T1 and "body" not in rows[0]  # keys only: rebuilding it rewrites no text


def test_deduplicated_is_the_cleaned_latest_versions_with_their_duplicate_status():
    rows = run_model("int_articles__deduplicated", {
        "intermediate.int_articles__cleaned": [cleaned("a1", "X"), cleaned("a2", "X"), cleaned("v1", "V1")],
        "intermediate.int_articles__latest": [
            {"article_id": "a1", "source_record": None, "ingested_at": T1, "version": 1, "duplicate_of": None,
             "duplicate_kind": None, "duplicate_similarity": None},
            {"article_id": "a2", "source_record": None, "ingested_at": T2, "version": 1, "duplicate_of": "a1",
             "duplicate_kind": "exact", "duplicate_similarity": 1.0},
        ],
    }, types={"intermediate.int_articles__latest": {"source_record": "integer"}})
    # v1 is an older version (not among the latest): left out
    assert [(r["article_id"], r["body"], r["publisher"], r["duplicate_of"], r["ingested_at"]) for r in rows] == [
        ("a1", "body X", "연합뉴스", None, T1), ("a2", "body X", "연합뉴스", "a1", T2)]


def test_dim_article_measures_the_body_and_keeps_only_received_articles():
    article = {"source_path": "/in/a.json", "source_record": None, "publisher": "연합뉴스",
               "publisher_source": "metadata", "title": "반도체 협력", "published_date": date(2025, 10, 29),
               "published_date_source": "metadata", "reporters": ["김기자"], "emails": ["kim@yna.co.kr"],
               "version": 1, "duplicate_of": None, "duplicate_kind": None, "duplicate_similarity": None}
    rows = run_model("dim_article", {
        "intermediate.int_articles__deduplicated": [
            {**article, "article_id": "a1", "body": "반도체 수출 통제"},
            {**article, "article_id": "a2", "body": "반도체 수출 통제", "duplicate_of": "a1",
             "duplicate_kind": "exact", "duplicate_similarity": 1.0},
            {**article, "article_id": "zz", "body": "not in staging"},
        ],
        "staging.stg_articles": [
            {"article_id": "a1", "url": "https://x/1", "source_id": "1", "format": "json", "encoding": "utf-8",
             "ingested_at": T1},
            {"article_id": "a2", "url": None, "source_id": None, "format": "txt", "encoding": "cp949",
             "ingested_at": T2},
        ],
    }, types={"intermediate.int_articles__deduplicated": {"source_record": "integer",
                                                          "duplicate_similarity": "double"}})
    assert [(r["article_id"], r["char_count"], r["duplicate_of"], r["duplicate_kind"], r["url"], r["format"],
             r["encoding"], r["ingested_at"]) for r in rows] == [
        ("a1", 9, None, None, "https://x/1", "json", "utf-8", T1),
        ("a2", 9, "a1", "exact", None, "txt", "cp949", T2)]
    assert rows[0]["published_date"] == date(2025, 10, 29) and rows[0]["reporter_emails"] == ["kim@yna.co.kr"]


def event_mention(event_id: str, article_id: str, sentence_idx: int, **extra) -> dict:
    base = {"event_id": event_id, "article_id": article_id, "sentence_idx": sentence_idx, "event_type": "SANCTION",
            "mode": "export_control", "context": "semiconductors", "contexts": ["semiconductors"],
            "event_date": date(2025, 10, 29), "date_precision": "day", "date_text": "29일",
            "event_status": "reported", "evidence": f"{article_id}/{sentence_idx}", "is_primary": False,
            "published_date": date(2025, 10, 29), "is_background": False, "is_title": False,
            "is_negated": False, "is_hypothetical": False,
            "participants": [{"entity_key": "US", "role": "actor"}]}
    return {**base, **extra}


def test_fct_event_is_one_row_per_event_from_its_primary_mention():
    rows = run_model("fct_event", {"intermediate.int_events": [
        event_mention("E1", "a1", 0, is_primary=True, is_title=True, evidence="가" * 300),
        event_mention("E1", "a1", 3, is_background=True, contexts=["trade"]),
        event_mention("E1", "a2", 1, is_background=True, published_date=date(2025, 10, 30), event_date=None),
        event_mention("E2", "a3", 0, is_primary=True, is_title=True, is_background=True, is_negated=True,
                      event_type="CONSULT", mode="summit", date_precision="month", event_status="planned"),
        event_mention("E3", "a4", 2),  # no primary mention: not an event of the mart
    ]})
    assert [r["event_id"] for r in rows] == ["E1", "E2"]
    e1, e2 = rows
    assert (e1["event_type"], e1["mode"], e1["event_date"], e1["date_precision"], e1["status"]) == (
        "SANCTION", "export_control", date(2025, 10, 29), "day", "reported")
    assert (e1["first_reported_date"], e1["last_reported_date"], e1["article_count"], e1["mention_count"]) == (
        date(2025, 10, 29), date(2025, 10, 30), 2, 3)
    assert e1["summary"] == "가" * 240 and e1["contexts"] == ["semiconductors", "trade"]
    # every body mention is background (the headline does not count); none is negated: still a fact
    assert (e1["is_background"], e1["is_negated"], e1["is_fact"]) == (True, False, True)
    # a headline-only event has no body mention to call it background; negated, so no fact
    assert (e2["status"], e2["date_precision"], e2["is_background"], e2["is_negated"], e2["is_fact"]) == (
        "planned", "month", False, True, False)


def test_fct_event_participant_keeps_the_strongest_role_of_known_entities():
    rows = run_model("fct_event_participant", {
        "intermediate.int_events": [
            event_mention("E1", "a1", 0, participants=[{"entity_key": "US", "role": "target"},
                                                      {"entity_key": "KR", "role": "target"}]),
            event_mention("E1", "a1", 3, participants=[{"entity_key": "US", "role": "actor"},
                                                      {"entity_key": "CHIP", "role": "topic"}]),
            event_mention("E1", "a2", 1, participants=[{"entity_key": "KR", "role": "location"},
                                                      {"entity_key": "XX", "role": "actor"}]),
            event_mention("E2", "a3", 0, participants=[]),
        ],
        "marts.dim_entity": [{"entity_id": "US"}, {"entity_id": "KR"}, {"entity_id": "CHIP"}],
    })
    assert [(r["event_id"], r["entity_id"], r["role"], r["mention_count"]) for r in rows] == [
        ("E1", "CHIP", "topic", 1), ("E1", "KR", "target", 2), ("E1", "US", "actor", 2)]


def test_dim_entity_names_reference_and_discovered_entities_and_counts_them():
    rows = run_model("dim_entity", {
        "marts.fct_entity_mention": [
            {"article_id": "a1", "entity_id": "Q30", "surface": "미국", "method": "gazetteer"},
            {"article_id": "a1", "entity_id": "Q30", "surface": "美", "method": "gazetteer"},
            {"article_id": "a2", "entity_id": "Q30", "surface": "미", "method": "compound"},
            {"article_id": "a2", "entity_id": "person:홍길동", "surface": "홍길동", "method": "ner"},
            {"article_id": "a2", "entity_id": "person:홍길동", "surface": "홍 장관", "method": "ner"},
            {"article_id": "zz", "entity_id": "Q17", "surface": "일본", "method": "gazetteer"},  # no article
        ],
        "marts.dim_article": [
            {"article_id": "a1", "published_date": date(2025, 10, 29), "ingested_at": T2},
            {"article_id": "a2", "published_date": None, "ingested_at": datetime(2025, 11, 2, 8, 0)},
        ],
        "staging.stg_reference_entities": [
            {"entity_id": "Q30", "name": "미국", "name_en": "United States", "entity_type": "COUNTRY",
             "wikidata_id": "Q30", "aliases": ["美", "미"]},
        ],
        "intermediate.int_entity_mentions": [
            {"entity_key": "person:홍길동", "name": "홍길동", "entity_type": "PERSON", "reference_id": None},
            {"entity_key": "person:홍길동", "name": "홍길동", "entity_type": "PERSON", "reference_id": None},
            {"entity_key": "Q30", "name": "미국", "entity_type": "COUNTRY", "reference_id": "Q30"},
        ],
    }, types={"marts.dim_article": {"published_date": "date"}})
    by_id = {r["entity_id"]: r for r in rows}
    assert set(by_id) == {"Q30", "person:홍길동"}
    us, hong = by_id["Q30"], by_id["person:홍길동"]
    assert (us["name"], us["name_en"], us["entity_type"], us["aliases"], us["discovered"]) == (
        "미국", "United States", "COUNTRY", ["美", "미"], False)
    assert (us["first_seen"], us["last_seen"], us["article_count"], us["mention_count"]) == (
        date(2025, 10, 29), date(2025, 11, 2), 2, 3)
    # not in the reference data: named by its mentions, aliases are its other surfaces
    assert (hong["name"], hong["entity_type"], hong["aliases"], hong["discovered"], hong["wikidata_id"]) == (
        "홍길동", "PERSON", ["홍 장관"], True, None)
    assert (hong["first_seen"], hong["mention_count"]) == (date(2025, 11, 2), 2)


def test_harness_refuses_missing_and_unknown_inputs():
    with pytest.raises(SqlTestError, match="no rows given for staging.stg_articles"):
        run_model("dim_article", {"intermediate.int_articles__deduplicated": []})
    with pytest.raises(SqlTestError, match="does not read marts.fct_event"):
        run_model("fct_event", {"intermediate.int_events": [event_mention("E1", "a1", 0)], "marts.fct_event": []})
    with pytest.raises(SqlTestError, match="no rows given; pass its column types"):
        run_model("fct_event", {"intermediate.int_events": []})
    assert run_model("fct_event_participant", {
        "intermediate.int_events": [event_mention("E1", "a1", 0)],
        "marts.dim_entity": [],
    }, types={"marts.dim_entity": {"entity_id": "varchar"}}) == []
