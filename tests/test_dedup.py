"""Near-duplicate detection (MinHash + LSH), and exact duplicates and versions through the real models."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from newsetl import dedup, warehouse
from newsetl.config import Settings
from newsetl.ingest import ingest
from newsetl.models import load_graph
from newsetl.runner import ModelContext, build

PARAMS = dedup.Params()
WORDS = ("반도체", "수출", "통제", "미국", "중국", "한국", "정부", "기업", "공급망", "협력", "관세", "인상", "투자", "공장",
         "배터리", "리튬", "희토류", "장관", "회담", "발표", "강화", "검토", "시장", "업계", "전망", "계약", "체결", "지원")


def paragraph(rng: random.Random, sentences: int = 3) -> str:
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))) + "했다." for _ in range(sentences))


def story(seed: int, paragraphs: int = 8) -> list[str]:
    rng = random.Random(seed)
    return [paragraph(rng) for _ in range(paragraphs)]


def repost(paragraphs: list[str], seed: int) -> list[str]:
    """Another outlet's copy: a subhead added, one paragraph dropped, one added."""
    edited = list(paragraphs)
    del edited[3]
    edited.insert(5, paragraph(random.Random(seed)))
    edited.insert(2, "시장 반응은 엇갈려")
    return edited


def test_shingle_hashes_are_stable_ordered_and_skip_headings():
    text = "미국 정부가 반도체 수출을 막았다. 중국은 반발했다."
    hashes = dedup.shingle_hashes(text, 3, {})
    assert len(hashes) == 5 and hashes.dtype == np.uint64  # 7 words, 5 trigrams and int(hashes.max()) < 2 ** 32
    # the same in every process: CRC-32 token hashes, not Python's salted hash()
    assert hashes.tolist() == sorted(hashes.tolist()) and list(hashes) == list(dedup.shingle_hashes(text, 3, {}))
    assert np.array_equal(dedup.shingle_hashes(f"반도체 수출 통제 강화\n{text}", 3, {}), hashes)  # a heading
    assert not np.array_equal(dedup.shingle_hashes("정부가 미국 반도체 수출을 막았다. 중국은 반발했다.", 3, {}), hashes)
    assert len(dedup.shingle_hashes("짧다.", 3, {})) == 1


def test_signatures_estimate_similarity_and_are_stable():
    a = "\n".join(story(1))
    near = "\n".join(repost(story(1), 99))
    other = "\n".join(story(2))
    sigs, counts = dedup.signatures([a, near, other, a], PARAMS)
    assert sigs.shape == (4, 128) and sigs.dtype == np.uint32 and counts[0] > 100
    assert np.array_equal(sigs[0], sigs[3])
    assert 0.6 <= dedup.similarity(sigs[0], sigs[1]) < 1.0
    assert dedup.similarity(sigs[0], sigs[2]) < 0.2
    again, _ = dedup.signatures([a], PARAMS)  # CRC-32 shingle hashes: the same in every process and run
    assert np.array_equal(again[0], sigs[0])
    assert dedup.band_hashes(sigs, PARAMS).shape == (4, 32)


def test_signatures_are_the_ones_earlier_runs_stored():
    # Values datasketch 2.0's MinHash (seed 1, its default 'affine32' scheme), which signed bodies before,
    # gave for this body: a warehouse signed then matches new bodies against the same permutations.
    body = "미국 상무부는 중국 반도체 기업에 대한 수출 통제를 강화한다고 밝혔다. 업계는 공급망 영향을 우려했다."
    sigs, counts = dedup.signatures([body, ""], PARAMS)
    assert counts.tolist() == [12, 0]
    assert sigs[0][:6].tolist() == [520045237, 31634254, 1111060397, 116885983, 1071306781, 110622858]
    assert (sigs[1] == 2**32 - 1).all()  # no shingles: no minimum, never similar to anything but itself


def frame(items: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame({"body_sha": [s for s, _ in items], "article_id": [f"id-{s}" for s, _ in items],
                         "body": [b for _, b in items]})


BODIES = [
    ("A", "\n".join(story(1))),
    ("B", "\n".join(repost(story(1), 50))),  # near A
    ("C", "\n".join(story(2))),  # unrelated
    ("D", "\n".join(repost(repost(story(1), 50), 51))),  # near B (and A): joins A's cluster
    ("E", "짧은 본문이다."),  # too short to sign
    ("F", "짧은 본문이다."),
]


def test_a_batch_forms_star_clusters_around_the_first_body():
    out = dedup.sign_and_match(frame(BODIES), None, PARAMS)
    assert out.schema == pl.Schema(dedup.SIGNATURE_SCHEMA)
    roots = dict(zip(out["body_sha"], out["near_duplicate_of_sha"], strict=True))
    assert roots == {"A": None, "B": "A", "C": None, "D": "A", "E": None, "F": None}
    sims = dict(zip(out["body_sha"], out["similarity"], strict=True))
    assert sims["B"] >= 0.6 and sims["A"] is None
    assert out.filter(pl.col("body_sha") == "E")["signature"][0] is None  # short: matched exactly only


def test_new_bodies_are_matched_against_stored_signatures_as_in_one_batch(tmp_path):
    first = dedup.sign_and_match(frame(BODIES[:1] + BODIES[2:3]), None, PARAMS)  # A and C were stored
    later = dedup.sign_and_match(frame([BODIES[1], BODIES[3]]), dedup.frame_lookup(first), PARAMS)
    assert dict(zip(later["body_sha"], later["near_duplicate_of_sha"], strict=True)) == {"B": "A", "D": "A"}
    # the same through DuckDB, where the signatures are stored
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        con.register("first", first.to_arrow())
        con.execute("create table signatures as select * from first")
        stored = dedup.sign_and_match(frame([BODIES[1], BODIES[3]]), dedup.warehouse_lookup(con, "signatures"), PARAMS)
    assert stored.equals(later)


def test_the_threshold_decides():
    strict = dedup.Params(threshold=0.99)
    out = dedup.sign_and_match(frame(BODIES[:2]), None, strict)
    assert out["near_duplicate_of_sha"].to_list() == [None, None]


# ---------------------------------------------------------------- through ingest and the models
def write(path: Path, title: str, publisher: str, paragraphs: list[str], published: str = "2025-10-29 09:00") -> None:
    path.write_text(f"---\ntitle: {title}\nsource: {publisher}\npublished_at: {published}\n---\n"
                    + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


def run(db: Path, source: Path, run_id: str) -> list[tuple]:
    settings = Settings().with_(db=db, sources=(source,))
    with warehouse.connect(db) as con:
        warehouse.ensure_schema(con)
        ingest(con, settings, run_id)
        graph = load_graph(settings.sql_dir, settings.reference_dir)
        results = build(ModelContext(con=con, settings=settings, run_id=run_id), graph,
                        graph.select(["+marts.dim_article"]))
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        return con.execute("""
            select regexp_extract(source_path, '[^/]+$'), version, duplicate_kind,
                   regexp_extract(d.duplicate_of_path, '[^/]+$'), publisher, title
            from marts.dim_article as a
            left join (select article_id as duplicate_of, source_path as duplicate_of_path from marts.dim_article) as d
                using (duplicate_of)
            order by 1""").fetchall()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    write(src / "a_original.txt", "미국, 반도체 수출 통제 강화", "연합뉴스", story(1))
    write(src / "b_copy.txt", "미국, 반도체 수출 통제 강화", "연합뉴스", story(1))
    write(src / "c_repost.txt", "[종합] 미국, 반도체 수출 통제 강화", "뉴스1", repost(story(1), 7))
    write(src / "d_other.txt", "중국, 희토류 관세 인상", "한국경제", story(2))
    return src


def test_duplicates_point_at_the_original_and_versions_replace_each_other(folder, tmp_path):
    db = tmp_path / "w.duckdb"
    assert run(db, folder, "r1") == [
        ("a_original.txt", 1, None, None, "연합뉴스", "미국, 반도체 수출 통제 강화"),
        ("b_copy.txt", 1, "exact", "a_original.txt", "연합뉴스", "미국, 반도체 수출 통제 강화"),
        ("c_repost.txt", 1, "near", "a_original.txt", "뉴스1", "[종합] 미국, 반도체 수출 통제 강화"),
        ("d_other.txt", 1, None, None, "한국경제", "중국, 희토류 관세 인상"),
    ]
    # the original changes: its new version is a new article (new body), the copy becomes the original
    write(folder / "a_original.txt", "미국, 반도체 수출 통제 강화(2보)", "연합뉴스", story(3))
    rows = run(db, folder, "r2")
    assert rows[:3] == [
        ("a_original.txt", 2, None, None, "연합뉴스", "미국, 반도체 수출 통제 강화(2보)"),
        ("b_copy.txt", 1, None, None, "연합뉴스", "미국, 반도체 수출 통제 강화"),
        ("c_repost.txt", 1, "near", "b_copy.txt", "뉴스1", "[종합] 미국, 반도체 수출 통제 강화"),
    ]
    # and back again: the first content is the current version once more (a third version), now a
    # copy of b_copy, which was seen first
    write(folder / "a_original.txt", "미국, 반도체 수출 통제 강화", "연합뉴스", story(1))
    rows = run(db, folder, "r3")
    assert [r[:4] for r in rows[:2]] == [("a_original.txt", 3, "exact", "b_copy.txt"), ("b_copy.txt", 1, None, None)]
    with warehouse.connect(db) as con:
        assert con.execute("select count(*) from raw.articles").fetchall() == [(6,)]  # every version stays
        assert con.execute("select count(*) from intermediate.int_article_signatures").fetchall() == [(4,)]
