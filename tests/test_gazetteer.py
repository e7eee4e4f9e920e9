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
