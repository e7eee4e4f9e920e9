"""Checks of the reference gazetteers in seeds/reference/ (entities the extractor resolves to)."""

from __future__ import annotations

import csv
import functools
import importlib.util
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "seeds" / "reference"
SHARED = ROOT.parent / "shared"

COMMON = ["entity_id", "name", "name_en", "entity_type", "wikidata_id", "aliases"]
FILES = {  # stem -> (entity_type, id prefix, extra columns)
    "countries": ("COUNTRY", "country", ["iso2", "iso3", "abbrev"]),
    "organizations": ("ORG", "org", ["subtype", "country"]),
    "people": ("PERSON", "person", ["title", "organization", "country"]),
    "locations": ("LOCATION", "loc", ["country"]),
    "commodities": ("COMMODITY", "commodity", []),
    "technologies": ("TECHNOLOGY", "tech", []),
    "programs": ("PROGRAM", "program", ["country"]),
}
ORG_SUBTYPES = {
    "government", "ministry", "agency", "legislature", "international", "company", "media", "think_tank",
    "university", "party", "military", "association",
}
# Surface forms two entities share on purpose (folded as the scorer does). Empty: none yet.
DELIBERATE_SHARED: dict[str, set[str]] = {}
# One-syllable Korean names that are unambiguous in news text.
ONE_SYLLABLE_NAMES = {"괌"}  # Guam
# Single-syllable forms that are unambiguous in Korean text (hanja headline forms).
HANJA = re.compile(r"^[\u4e00-\u9fff]+$")
SURNAMES = set(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천방"
    "공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부"
)


def rows(stem: str) -> list[dict[str, str]]:
    with (REF / f"{stem}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def header(stem: str) -> list[str]:
    with (REF / f"{stem}.csv").open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def aliases(row: dict[str, str]) -> list[str]:
    return [a for a in row["aliases"].split("|")] if row["aliases"] else []


def fold(surface: str) -> str:
    """Whitespace-free, lower-case: how the shared scorer compares names and aliases."""
    return "".join(surface.split()).lower()


@functools.cache
def table(stem: str) -> list[dict[str, str]]:
    return rows(stem)


@functools.cache
def by_id() -> dict[str, dict[str, str]]:
    return {r["entity_id"]: r for stem in FILES for r in table(stem)}


@functools.cache
def iso2s() -> frozenset[str]:
    return frozenset(r["iso2"] for r in table("countries"))


def by_name(stem: str, name: str) -> dict[str, str]:
    found = [r for r in table(stem) if r["name"] == name]
    assert len(found) == 1, f"{stem}: {name!r} found {len(found)} times"
    return found[0]


# -- shape ----------------------------------------------------------------------------------
@pytest.mark.parametrize("stem", FILES)
def test_header(stem):
    assert header(stem) == COMMON + FILES[stem][2]


@pytest.mark.parametrize("stem", FILES)
def test_rows_complete_and_typed(stem):
    entity_type, prefix, _ = FILES[stem]
    assert table(stem), f"{stem}.csv is empty"
    for r in table(stem):
        assert None not in r.values() and None not in r, f"ragged row {r}"
        assert re.fullmatch(rf"{prefix}:[A-Za-z0-9_]+", r["entity_id"]), r["entity_id"]
        assert r["entity_type"] == entity_type, r["entity_id"]
        assert r["name"] and r["name"] == r["name"].strip(), r["entity_id"]
        assert r["name_en"], f"{r['entity_id']} has no English name"
        assert r["wikidata_id"] == "" or re.fullmatch(r"Q[1-9][0-9]*", r["wikidata_id"]), r["entity_id"]


@pytest.mark.parametrize("stem", FILES)
def test_sorted_by_id(stem):
    ids = [r["entity_id"] for r in table(stem)]
    assert ids == sorted(ids)


def test_entity_ids_unique_across_files():
    seen: dict[str, str] = {}
    for stem in FILES:
        for r in table(stem):
            assert r["entity_id"] not in seen, f"{r['entity_id']} in {stem} and {seen[r['entity_id']]}"
            seen[r["entity_id"]] = stem


def test_wikidata_ids_unique():
    seen: dict[str, str] = {}
    for r in by_id().values():
        if r["wikidata_id"]:
            qid = r["wikidata_id"]
            assert qid not in seen, f"{qid}: {r['entity_id']} and {seen[qid]}"
            seen[r["wikidata_id"]] = r["entity_id"]


# -- aliases ----------------------------------------------------------------------------------
def test_aliases_clean():
    for r in by_id().values():
        als = aliases(r)
        assert all(a and a == a.strip() for a in als), f"empty or padded alias in {r['entity_id']}"
        assert r["name"] not in als, f"{r['entity_id']} repeats its name as an alias"
        assert len(als) == len(set(als)), f"{r['entity_id']} repeats an alias"


def test_no_single_hangul_syllable_surfaces():
    """One-syllable forms (미, 중, 한) belong in countries.abbrev, never in names or aliases."""
    for r in by_id().values():
        for s in [r["name"], *aliases(r)]:
            if s not in ONE_SYLLABLE_NAMES:
                assert not re.fullmatch(r"[가-힣]", s), f"{r['entity_id']}: one-syllable surface {s!r}"


def test_single_character_surfaces_are_hanja():
    for r in by_id().values():
        for s in [r["name"], *aliases(r)]:
            if len(s) == 1 and s not in ONE_SYLLABLE_NAMES:
                assert HANJA.match(s), f"{r['entity_id']}: one-character surface {s!r}"


def test_no_surface_shared_by_two_entities():
    owners: dict[str, set[str]] = defaultdict(set)
    for r in by_id().values():
        for s in [r["name"], *aliases(r)]:
            owners[fold(s)].add(r["entity_id"])
    clashes = {s: ids for s, ids in owners.items() if len(ids) > 1 and DELIBERATE_SHARED.get(s) != ids}
    assert not clashes, clashes


def test_known_ambiguous_forms_absent():
    """Words that are mostly something else in news text are never aliases."""
    surfaces = {fold(s) for r in by_id().values() for s in [r["name"], *aliases(r)]}
    for word in ("조선", "양자", "퀀텀", "경기", "연합", "수은", "산은", "상해", "신장", "크림", "가자",
                 "조국", "한정", "칩", "대두", "다이빙", "한화", "CCTV", "행정원", "강철"):
        assert word not in surfaces, word


# -- countries --------------------------------------------------------------------------------
def test_countries_cover_babel():
    from babel import Locale

    ko = {k for k in Locale("ko").territories if re.fullmatch(r"[A-Z]{2}", k)}
    not_countries = {"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
    missing = {k for k in ko if k not in iso2s()} - not_countries
    assert not missing, missing
    assert len(table("countries")) >= 245


def test_countries_codes():
    iso3 = set()
    for r in table("countries"):
        assert re.fullmatch(r"[A-Z]{2}", r["iso2"]) and r["entity_id"] == f"country:{r['iso2']}", r
        assert re.fullmatch(r"[A-Z]{3}", r["iso3"]), r
        assert r["name_en"], r
        iso3.add(r["iso3"])
    assert len(iso3) == len(table("countries"))


def test_country_abbrevs_unique_single_syllables():
    abbrevs = [r["abbrev"] for r in table("countries") if r["abbrev"]]
    assert len(abbrevs) == len(set(abbrevs))
    assert all(re.fullmatch(r"[가-힣]", a) for a in abbrevs)
    got = {r["iso2"]: r["abbrev"] for r in table("countries") if r["abbrev"]}
    assert {"KR": "한", "US": "미", "JP": "일", "CN": "중", "KP": "북", "RU": "러"}.items() <= got.items()


@pytest.mark.parametrize("name, iso2, alias", [
    ("미국", "US", "美"), ("중국", "CN", "中"), ("일본", "JP", "日"), ("한국", "KR", "韓"),
    ("한국", "KR", "대한민국"), ("북한", "KP", "北"), ("영국", "GB", "英"), ("독일", "DE", "獨"),
    ("프랑스", "FR", "佛"), ("러시아", "RU", "露"), ("인도", "IN", "印"), ("호주", "AU", "濠"),
    ("대만", "TW", "타이완"), ("아랍에미리트", "AE", "UAE"), ("사우디아라비아", "SA", "사우디"),
    ("남아프리카공화국", "ZA", "남아공"), ("튀르키예", "TR", "터키"), ("인도네시아", "ID", "인니"),
])
def test_newsworthy_country_names(name, iso2, alias):
    r = by_name("countries", name)
    assert r["iso2"] == iso2 and alias in aliases(r)


def test_country_names_are_news_forms():
    names = {r["name"] for r in table("countries")}
    for name in ("미국", "중국", "일본", "한국", "북한", "러시아", "대만", "네덜란드", "영국", "독일",
                 "프랑스", "이탈리아", "캐나다", "호주", "인도", "베트남", "싱가포르", "이스라엘", "홍콩",
                 "콩고민주공화국", "우크라이나", "칠레", "몽골", "카자흐스탄", "멕시코", "브라질", "폴란드",
                 "필리핀", "태국"):
        assert name in names, name
    assert not any("(" in n for n in names)
    assert by_name("countries", "미국")["abbrev"] == "미"


def test_countries_csv_is_what_the_script_builds():
    spec = importlib.util.spec_from_file_location("build_countries", ROOT / "scripts" / "build_countries.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (REF / "countries.csv").read_text(encoding="utf-8") == module.render(module.build_rows())


# -- organizations, people, places, programs ------------------------------------------------
def test_org_subtypes_and_countries():
    for r in table("organizations"):
        assert r["subtype"] in ORG_SUBTYPES, r["entity_id"]
        assert r["country"] == "" or r["country"] in iso2s(), r["entity_id"]


@pytest.mark.parametrize("stem", ["people", "locations", "programs"])
def test_country_column_is_iso2(stem):
    for r in table(stem):
        assert r["country"] == "" or r["country"] in iso2s(), r["entity_id"]


def test_people_organizations_exist():
    for r in table("people"):
        assert r["title"], r["entity_id"]
        assert r["organization"] == "" or by_id().get(r["organization"], {}).get("entity_type") == "ORG", r


def test_people_aliases_never_bare_surnames():
    for r in table("people"):
        for a in aliases(r):
            assert not (len(a) == 1 and a in SURNAMES), f"{r['entity_id']}: {a}"


@pytest.mark.parametrize("stem, name, alias, extra", [
    ("organizations", "삼성전자", "삼성", {"subtype": "company", "country": "KR"}),
    ("organizations", "SK하이닉스", "하이닉스", {"subtype": "company"}),
    ("organizations", "산업통상자원부", "산업부", {"country": "KR"}),
    ("organizations", "과학기술정보통신부", "과기정통부", {}),
    ("organizations", "기획재정부", "기재부", {}),
    ("organizations", "국가정보원", "국정원", {}),
    ("organizations", "미국 상무부", "상무부", {"country": "US"}),
    ("organizations", "미국 국무부", "국무부", {"country": "US"}),
    ("organizations", "미국 무역대표부", "USTR", {"country": "US"}),
    ("organizations", "일본 경제산업성", "경제산업성", {"country": "JP"}),
    ("organizations", "국제에너지기구", "IEA", {"subtype": "international"}),
    ("organizations", "아시아태평양경제협력체", "에이펙", {}),
    ("organizations", "G20", "주요 20개국", {}),
    ("organizations", "유럽연합", "EU", {"subtype": "international"}),
    ("organizations", "블룸버그통신", "블룸버그", {"subtype": "media"}),
    ("organizations", "산케이신문", "산케이", {"subtype": "media"}),
    ("organizations", "포스코인터내셔널", "포스코 인터내셔널", {}),
    ("organizations", "현대자동차그룹", "현대차그룹", {}),
    ("organizations", "엔비디아", "NVIDIA", {"country": "US"}),
    ("people", "도널드 트럼프", "트럼프", {"country": "US"}),
    ("people", "지나 러몬도", "러몬도", {"organization": "org:us_doc"}),
    ("people", "기시다 후미오", "기시다", {"country": "JP"}),
    ("people", "니시무라 야스토시", "니시무라", {}),
    ("locations", "워싱턴 DC", "워싱턴", {"country": "US"}),
    ("commodities", "핵심 광물", "핵심광물", {}),
    ("technologies", "인공지능", "AI", {}),
    ("technologies", "배터리", "2차전지", {}),
    ("technologies", "HBM", "고대역폭메모리", {}),
    ("programs", "인도태평양경제프레임워크", "IPEF", {}),
    ("programs", "광물안보파트너십", "광물 안보 파트너십", {}),
])
def test_known_rows(stem, name, alias, extra):
    r = by_name(stem, name)
    assert alias in aliases(r)
    for column, value in extra.items():
        assert r[column] == value, (name, column)


def test_known_rows_without_aliases():
    for stem, name in (("organizations", "백악관"), ("organizations", "중국 상무부"), ("people", "안덕근"),
                       ("people", "시진핑"), ("people", "리창"), ("people", "젠슨 황"), ("people", "이재용"),
                       ("locations", "경주"), ("locations", "부산"), ("locations", "캠프 데이비드"),
                       ("locations", "김해공군기지"), ("commodities", "희토류"), ("technologies", "반도체"),
                       ("technologies", "D램"), ("technologies", "합성생물학"),
                       ("programs", "미국산 AI 수출 프로그램")):
        by_name(stem, name)


def test_bare_ministry_names_go_to_the_dominant_country():
    assert "상무부" not in aliases(by_name("organizations", "중국 상무부"))
    assert by_name("organizations", "외교부")["country"] == "KR"
    assert by_name("organizations", "국방부")["country"] == "KR"


# -- the shared test-corpus lexicon (real organisations, commodities, technologies) -----------
LEXICON = SHARED / "corpus" / "corpus_lexicon.py"
# The corpus calls IPEF and MSP organisations; here they are programmes (frameworks), as DESIGN.md says.
LEXICON_TYPE_EXCEPTIONS = {"IPEF", "MSP"}


@pytest.mark.skipif(not LEXICON.exists(), reason="shared corpus lexicon not available")
def test_corpus_lexicon_surfaces_resolve():
    spec = importlib.util.spec_from_file_location("corpus_lexicon", LEXICON)
    lex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lex)
    owners: dict[str, dict[str, str]] = {}
    for r in by_id().values():
        for s in [r["name"], *aliases(r)]:
            owners[fold(s)] = r
    wanted = [(k, n, "COUNTRY", a) for k, n, _h, _s, a in lex.COUNTRIES]
    wanted += [(k, n, "ORG", a) for k, n, _sub, _c, a in lex.ORGS]
    wanted += [(k, n, t, a) for k, n, t, _g, a in lex.ITEMS]
    problems = []
    for key, name, etype, als in wanted:
        for surface in (name, *als):
            hit = owners.get(fold(re.sub(r"\(.*?\)", "", surface))) or owners.get(fold(surface))
            if hit is None:
                problems.append(f"{key}: {surface!r} unknown")
            elif hit["entity_type"] != etype and key not in LEXICON_TYPE_EXCEPTIONS:
                problems.append(f"{key}: {surface!r} is {hit['entity_type']}, corpus says {etype}")
    assert not problems, problems


@pytest.mark.skipif(not LEXICON.exists(), reason="shared corpus lexicon not available")
def test_corpus_places_and_publishers_known():
    spec = importlib.util.spec_from_file_location("corpus_lexicon", LEXICON)
    lex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lex)
    names = {stem: {fold(s) for r in table(stem) for s in [r["name"], *aliases(r)]} for stem in FILES}
    assert {fold(p) for p in lex.PLACES} <= names["locations"]
    assert {fold(p.name) for p in lex.PUBLISHERS} <= names["organizations"]
    assert {fold(s) for s in lex.STAT_SOURCES} <= names["organizations"]
