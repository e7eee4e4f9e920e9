"""The body cleaner: furniture out (and what it tells kept), article text intact, down to the sentence."""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import date
from pathlib import Path

import pytest

from newsetl import clean
from newsetl.publishers import Publishers

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PUBLISHERS = Publishers.from_csv(ROOT / "seeds" / "reference" / "publishers.csv")
LEAD = "미국 상무부는 29일 중국에 대한 반도체 장비 수출 통제를 강화한다고 밝혔다."
SECOND = "업계는 이번 조치가 공급망 재편을 앞당길 것으로 내다봤다. 한국 정부는 대응책을 검토하고 있다."
THIRD = "산업통상자원부는 다음 달 12일 워싱턴에서 미국과 장관급 회의를 연다."


def lines(text: str) -> list[str]:
    return text.split("\n")


def test_page_furniture_goes_and_the_article_stays_line_for_line():
    page = "\n".join([
        "-", "기사 스크랩", "-", "공유", "글자크기 설정", "가 가 가 가", "본문 듣기", "공유 | 댓글 | 프린트",
        "입력 2025.10.29 14:03", LEAD, "사진=연합뉴스", "[사진=게티이미지뱅크]", "사진은 기사 내용과 관계없음",
        SECOND, "![다른 기사 제목 [사설] 경제안보](https://img.hankyung.com/2025/10/01/AB12_1.jpg)",
        THIRD, "이 기사를 추천합니다", "좋아요 0", "댓글 12", "기자 구독하기", "ⓒ 전자신문, 무단전재 및 재배포 금지",
        "https://www.etnews.com/20251029000123",
    ])
    out = clean.clean(page, publishers=PUBLISHERS)
    assert lines(out.body) == [LEAD, SECOND, THIRD]
    assert out.page_date_text == "입력 2025.10.29 14:03"
    assert (out.publisher, out.publisher_source) == ("전자신문", "copyright")
    assert out.removed_lines == 19


def test_repeated_paragraphs_and_blocks_collapse_but_a_sentence_opening_another_paragraph_stays():
    opening = "한국과 미국은 이날 공급망 협력 방안을 논의했다."
    page = "\n".join([LEAD, SECOND, THIRD, SECOND, THIRD, opening + " 양측은 후속 회의를 열기로 했다.", opening,
                      "한국 정부는 대응책을 검토하고 있다 업계는 이번 조치가 공급망 재편을 앞당길 것으로", LEAD[:40]])
    out = clean.clean(page)
    # a block read twice goes, a re-read cut off mid-sentence goes, a whole sentence stays
    assert lines(out.body) == [LEAD, SECOND, THIRD, opening + " 양측은 후속 회의를 열기로 했다.", opening,
                               "한국 정부는 대응책을 검토하고 있다 업계는 이번 조치가 공급망 재편을 앞당길 것으로"]


@pytest.mark.parametrize(("line", "reporters", "emails", "publisher"), [
    ("홍길동 기자 hong12@hankookilbo.com", ["홍길동"], ["hong12@hankookilbo.com"], ("한국일보", "email")),
    ("최은서 기자 (choies@mk.co.kr)", ["최은서"], ["choies@mk.co.kr"], ("매일경제", "email")),
    ("한국경제 최태재 기자 choi@hankyung.com", ["최태재"], ["choi@hankyung.com"], ("한국경제", "byline")),
    ("[뉴스핌 정하영 기자]", ["정하영"], [], ("뉴스핌", "byline")),
    ("글·사진=김철수·이영희 기자", ["김철수", "이영희"], [], (None, None)),
    ("윤경은 기자", ["윤경은"], [], (None, None)),
    ("reporter@newsis.com", [], ["reporter@newsis.com"], ("뉴시스", "email")),
    ("/연합뉴스", [], [], ("연합뉴스", "signoff")),
])
def test_bylines_become_reporters_e_mails_and_a_publisher(line, reporters, emails, publisher):
    out = clean.clean("\n".join([LEAD, SECOND, line]), publishers=PUBLISHERS)
    assert lines(out.body) == [LEAD, SECOND]
    assert (out.reporters, out.emails, (out.publisher, out.publisher_source)) == (reporters, emails, publisher)


@pytest.mark.parametrize(("prefix", "reporter", "publisher"), [
    ("(서울=연합뉴스) 홍길동 기자 = ", "홍길동", "연합뉴스"),
    ("[서울=뉴시스]김민수 기자 = ", "김민수", "뉴시스"),
    ("(워싱턴=뉴스1) 이지현 특파원 = ", "이지현", "뉴스1"),
    ("[한국경제 최태재 기자] ", "최태재", "한국경제"),
])
def test_a_wire_dateline_or_bracket_byline_comes_off_the_lead(prefix, reporter, publisher):
    out = clean.clean("\n".join([prefix + LEAD, SECOND]), publishers=PUBLISHERS)
    assert lines(out.body) == [LEAD, SECOND]
    assert out.reporters == [reporter] and out.publisher == publisher


def test_the_copyright_owner_beats_a_wire_dateline_and_prose_about_copying_stays():
    prose = "검찰은 그가 사진을 무단 전재한 혐의로 기소됐다고 밝혔다."
    page = "\n".join(["(서울=연합뉴스) 홍길동 기자 = " + LEAD, prose, "<저작권자(c) 아주경제, 무단 전재-재배포, AI 학습 및 활용 금지>"])
    out = clean.clean(page, publishers=PUBLISHERS)
    assert lines(out.body) == [LEAD, prose]
    assert (out.publisher, out.publisher_source) == ("아주경제", "copyright")
    assert [c for c in out.candidates] == [("dateline", "연합뉴스"), ("copyright", "아주경제")]


def test_an_unknown_outlet_in_a_copyright_line_is_still_named():
    out = clean.clean("\n".join([LEAD, "Copyright ⓒ 새마을신문. All rights reserved."]), publishers=PUBLISHERS)
    assert (out.publisher, out.body) == ("새마을신문", LEAD)


def test_title_from_the_source_is_dropped_from_the_body_and_a_leading_headline_becomes_the_title():
    title = "美, 中 반도체 장비 수출 통제 강화…“동맹 공조”"
    given = clean.clean("\n".join([title, LEAD, SECOND]), title_hint=title)
    assert (given.title, lines(given.body)) == (title, [LEAD, SECOND])
    found = clean.clean("\n".join([title, "-", "공유", LEAD, SECOND]))
    assert (found.title, lines(found.body)) == (title, [LEAD, SECOND])
    # a body that opens with a sentence has no title line
    assert clean.clean("\n".join([LEAD, SECOND])).title is None


def test_text_normalization_spacing_nfd_and_crlf():
    nfd = __import__("unicodedata").normalize("NFD", LEAD)
    out = clean.clean(f"  {nfd}\t\u3000\r\n\r\n{SECOND}  \r\n")
    assert lines(out.body) == [LEAD, SECOND]


def test_body_key_ignores_headings_and_spacing():
    with_subhead = "\n".join([LEAD, "기술 패권 경쟁 격화", SECOND])
    assert clean.body_key(with_subhead) == clean.body_key(f"{LEAD}\n{SECOND.replace(' ', '  ')}")
    assert clean.body_key(with_subhead) != clean.body_key(f"{LEAD}\n{THIRD}")


def test_publication_date_from_metadata_then_text_then_url_or_file_name():
    assert clean.publication_date({"published_at": "2025-10-29T20:00:00Z"}, None, None) == (date(2025, 10, 30), "metadata")
    assert clean.publication_date({}, "입력 2025.10.29 14:03", None) == (date(2025, 10, 29), "text")
    assert clean.publication_date({"published_at_text": "2025.10.28 09:00"}, None, None) == (date(2025, 10, 28), "text")
    assert clean.publication_date({"url": "https://www.yna.co.kr/view/AKR20251027000123"}, None, None) == (
        date(2025, 10, 27), "inferred")
    assert clean.publication_date({}, None, "/in/2025/01/01/yna_20251026_000123.txt") == (date(2025, 10, 26), "inferred")
    assert clean.publication_date({}, None, "/in/2025/10/01/000123_4f73fd94.txt") == (None, None)  # folders don't count
    assert clean.publication_date({"url": "https://www.mk.co.kr/news/economy/00000002"}, None, None) == (None, None)
    # a metadata date as people write it ('날짜: 2026년 11월 10일' atop a .txt)
    assert clean.publication_date({"published_at": "2026년 11월 10일"}, None, None) == (date(2026, 11, 10), "metadata")
    assert clean.publication_date({"published_at": "2026. 11. 10."}, None, None) == (date(2026, 11, 10), "metadata")


def test_clean_article_names_publisher_and_date_and_where_each_came_from():
    row = {"article_id": "a1", "source_path": "/in/000001_x.txt", "title": None,
           "body": "\n".join(["반도체 수출 통제 강화", LEAD, SECOND, "홍길동 기자 hong@sedaily.com", "입력 2025.10.29 14:03"]),
           "metadata": json.dumps({})}
    out = clean.clean_article(row, PUBLISHERS)
    assert (out["title"], out["body"], out["publisher"], out["publisher_source"]) == (
        "반도체 수출 통제 강화", f"{LEAD}\n{SECOND}", "서울경제", "email")
    assert (out["published_date"], out["published_date_source"], out["reporters"], out["emails"]) == (
        date(2025, 10, 29), "text", ["홍길동"], ["hong@sedaily.com"])
    meta = clean.clean_article({**row, "metadata": json.dumps({"source": "Yonhap", "published_at": "2025-10-28 09:00"})},
                               PUBLISHERS)
    assert (meta["publisher"], meta["publisher_source"], meta["published_date_source"]) == ("연합뉴스", "metadata", "metadata")
    bare = clean.clean_article({**row, "source_path": "/in/mk_20251020_01.txt", "body": f"{LEAD}\n{SECOND}"}, PUBLISHERS)
    assert (bare["publisher"], bare["publisher_source"], bare["published_date"], bare["published_date_source"]) == (
        "매일경제", "inferred", date(2025, 10, 20), "inferred")
    nothing = clean.clean_article({**row, "body": f"{LEAD}\n{SECOND}"}, PUBLISHERS)
    assert (nothing["publisher"], nothing["published_date"], nothing["published_date_source"]) == (None, None, None)


def test_publishers_index_names_aliases_domains_and_file_codes():
    assert PUBLISHERS.canonical("Yonhap News") == "연합뉴스" and PUBLISHERS.canonical("뭔일보") == "뭔일보"
    assert PUBLISHERS.in_text("<ⓒ한국경제신문 무단전재>") == "한국경제"
    assert PUBLISHERS.in_text("유럽연합 집행위원회") is None  # 연합 glued to 유럽 is not an outlet
    assert PUBLISHERS.from_domain("img.hankookilbo.com") == "한국일보"
    assert PUBLISHERS.from_domain("biz.chosun.com") == "조선비즈" and PUBLISHERS.from_domain("chosun.com") == "조선일보"
    assert PUBLISHERS.from_url("https://news.mt.co.kr/mtview.php?no=1") == "머니투데이"
    assert PUBLISHERS.from_path("/in/yna_20250312_000123.txt") == "연합뉴스"
    assert PUBLISHERS.from_path("/in/archive/파이낸셜뉴스/경제/a.txt") == "파이낸셜뉴스"
    assert PUBLISHERS.from_path("/in/seoul_food_guide.txt") is None  # a code must lead a dated name


def test_publishers_seed_is_well_formed_and_covers_the_corpus_outlets():
    with (ROOT / "seeds" / "reference" / "publishers.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["publisher_id", "name", "name_en", "kind", "domains", "aliases"]
    assert len({r["publisher_id"] for r in rows}) == len(rows) >= 50
    domains = [d for r in rows for d in r["domains"].split("|")]
    assert len(domains) == len(set(domains)) and all(re.fullmatch(r"[a-z0-9.-]+\.[a-z]+", d) for d in domains)
    lexicon = SHARED / "corpus" / "corpus_lexicon.py"
    if not lexicon.exists():
        pytest.skip("../shared/corpus is not there")
    sys.path.insert(0, str(lexicon.parent))
    try:
        import corpus_lexicon
    finally:
        sys.path.remove(str(lexicon.parent))
    for outlet in corpus_lexicon.PUBLISHERS:
        assert PUBLISHERS.canonical(outlet.name) == outlet.name and PUBLISHERS.known(outlet.name)
        assert PUBLISHERS.from_domain(outlet.domain) == outlet.name, outlet.domain


def klue_sentences() -> list[str]:
    path = SHARED / "data" / "klue-ner" / "wikitree_dev.jsonl"
    if not path.exists():
        pytest.skip("../shared/data/klue-ner is not there")
    tag = re.compile(r"<([^<>]*?):(?:PS|LC|OG|DT|TI|QT)>")
    with path.open(encoding="utf-8") as fh:
        return [tag.sub(r"\1", json.loads(line)["tagged"]).strip() for line in fh]


def test_every_real_news_sentence_survives_as_a_paragraph_of_its_own():
    """1,267 KLUE sentences (real Korean news): none may look like furniture to the cleaner."""
    sentences = klue_sentences()
    lost = [s for s in sentences if s not in lines(clean.clean(f"{LEAD}\n{s}\n{SECOND}").body)]
    assert len(sentences) > 1200 and lost == []


def test_event_sentences_survive_whatever_surrounds_them():
    events = [
        "포스코홀딩스는 10일 아랍에미리트 현지 게르마늄 생산시설에 3억 달러(약 4천200억 원) 규모의 추가 투자를 결정했다.",
        "미중 당국자들은 12일(현지시간) 경주에서 고위급 회의를 열고 리튬 분야 공조 방안을 협의했다.",
        "조너선 리브스 엔비디아 최고경영자(CEO)는 기자들과 만나 “필요하다면 추가 조치도 검토할 수 있다”고 강조했다.",
        "미국 재무부는 오는 9일부터 인도에 대한 흑연 수출 허가제를 시행할 예정이다.",
    ]
    page = "\n".join(["(서울=연합뉴스) 홍길동 기자 = " + events[0], "사진=연합뉴스", *events[1:], "홍길동 기자 hong@yna.co.kr"])
    assert lines(clean.clean(page).body) == events


def test_an_implied_date_out_of_range_is_no_date():
    plausible = (date(1990, 1, 1), date(2026, 1, 2))
    assert clean.publication_date({}, None, "/in/yna_20991231_01.txt", plausible) == (None, None)
    assert clean.publication_date({}, None, "/in/yna_20251231_01.txt", plausible) == (date(2025, 12, 31), "inferred")


def test_a_date_in_a_file_name_must_be_a_token_of_its_own():
    assert clean.inferred_date(None, "/in/20241115-923c4e5d3.txt") == date(2024, 11, 15)
    assert clean.inferred_date(None, "/in/059414_ba6fee19980822a2.txt") is None  # hex, not a date
    assert clean.inferred_date("https://www.donga.com/news/article/all/20251029/1234/1", None) == date(2025, 10, 29)
