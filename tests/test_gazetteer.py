"""The reference dictionary: surfaces, folding, and curation (promote) of discovered names."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from newsetl.config import Settings
from newsetl.gazetteer import CurationError, fold, load, promote

REF = Settings().reference_dir


def test_fold_keeps_length_and_lowers_latin_only():
    assert fold("SK하이닉스 HBM") == "sk하이닉스 hbm"
    assert len(fold("ÄB가")) == 3


def test_load_indexes_every_file():
    gaz = load(REF)
    assert gaz.lookup("산업부").entity_id == "org:kr_motie"
    assert gaz.lookup("nvidia").entity_id == "org:nvidia"
    assert gaz.lookup("美").entity_id == "country:US"
    assert gaz.abbrev["한"] == "country:KR" and gaz.by_iso2["CN"] == "country:CN"
    assert {e.entity_type for e in gaz.entries.values()} == {
        "COUNTRY", "ORG", "PERSON", "LOCATION", "COMMODITY", "TECHNOLOGY", "PROGRAM"}
    assert max(gaz.lengths["미"]) >= len("미국 상무부")


@pytest.fixture
def ref_copy(tmp_path) -> Path:
    target = tmp_path / "reference"
    shutil.copytree(REF, target)
    return target


def test_promote_appends_a_sorted_row(ref_copy):
    row = promote(ref_copy, "한빛반도체", "ORG", name_en="Hanbit Semiconductor", aliases=["한빛반도"],
                  extra={"subtype": "company", "country": "KR"})
    assert row["entity_id"] == "org:hanbit_semiconductor"
    with (ref_copy / "organizations.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ids = [r["entity_id"] for r in rows]
    assert ids == sorted(ids) and "org:hanbit_semiconductor" in ids
    assert load(ref_copy).lookup("한빛반도").entity_id == "org:hanbit_semiconductor"


def test_promote_refuses_known_names_countries_and_unknown_types(ref_copy):
    with pytest.raises(CurationError, match="already names org:kr_motie"):
        promote(ref_copy, "산업부", "ORG", name_en="x")
    with pytest.raises(CurationError, match="build_countries"):
        promote(ref_copy, "새나라", "COUNTRY")
    with pytest.raises(CurationError, match="unknown type"):
        promote(ref_copy, "새것", "THING")


def test_promote_without_english_name_gets_a_stable_id(ref_copy):
    a = promote(ref_copy, "가나다기술", "TECHNOLOGY")
    assert a["entity_id"].startswith("tech:x") and a["name_en"] == "가나다기술"


def test_a_review_example_is_the_words_around_the_name():
    from newsetl.gazetteer import around

    sentence = "한편 업계에서는 이번 조치가 장기화할 경우 호주 광산업체 필바라미네랄스의 인도 수출이 크게 늘어날 것으로 내다봤다."
    assert around(sentence, "필바라미네랄스", width=10) == "…경우 호주 광산업체 필바라미네랄스의 인도 수출이 크게…"
    assert around("필바라미네랄스가 밝혔다.", "필바라미네랄스") == "필바라미네랄스가 밝혔다."


def test_discovered_names_come_with_the_words_around_a_mention():
    import duckdb

    from newsetl.gazetteer import discovered

    con = duckdb.connect()
    for schema in ("marts", "intermediate"):
        con.execute(f"create schema {schema}")
    con.execute("""create table marts.dim_entity as select 'new:org:필바라미네랄스' as entity_id,
        '필바라미네랄스' as name, 'ORG' as entity_type, 1 as article_count, 1 as mention_count,
        date '2026-05-20' as first_seen, date '2026-05-20' as last_seen, true as discovered""")
    con.execute("""create table marts.fct_entity_mention as select 'new:org:필바라미네랄스' as entity_id,
        'a1' as article_id, 2 as sentence_idx, '필바라미네랄스' as surface""")
    con.execute("create table intermediate.int_articles__deduplicated as select 'a1' as article_id, 'h1' as text_sha")
    sentence = "한편 업계에서는 이번 조치가 장기화할 경우 호주 광산업체 필바라미네랄스의 인도 수출이 크게 늘어날 것으로 내다봤다."
    con.execute("create table intermediate.int_sentences as select 'h1' as text_sha, 2 as sentence_idx, ? as text",
                [sentence])
    [row] = discovered(con)
    assert (row["name"], row["example"]) == ("필바라미네랄스", sentence)  # short enough to show whole
