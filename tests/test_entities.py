"""The entity extractor on sentences whose answers are known: listed names, compounds, 對中, people and roles."""

from __future__ import annotations

import pytest

from newsetl.analysis import MENTION_SCHEMA, analyse_batch
from newsetl.config import Settings
from newsetl.entities import Extractor, Mention
from newsetl.gazetteer import cached
from newsetl.nlp import split_sentences

REF = str(Settings().reference_dir)


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(cached(REF))


def mentions(extractor: Extractor, text: str) -> list[Mention]:
    known: dict[str, Mention] = {}
    offices: dict[str, Mention] = {}
    out = []
    from newsetl.analysis import remember

    for sent in split_sentences([text])[0]:
        for m in extractor.sentence(sent, known, offices):
            out.append(m)
            if m.entity_type == "PERSON":
                remember(known, m)
    return out


def ids(ms: list[Mention]) -> list[str]:
    return [m.key for m in ms]


def test_compound_keeps_every_member_with_its_own_letter(extractor):
    ms = [m for m in mentions(extractor, "한·미·일 정상이 만났다.") if m.method == "compound"]
    assert [(m.text, m.start, m.entity_id) for m in ms] == [
        ("한", 0, "country:KR"), ("미", 2, "country:US"), ("일", 4, "country:JP")]


def test_plain_compounds(extractor):
    assert {m.entity_id for m in mentions(extractor, "미중 갈등이 커졌다.") if m.method == "compound"} == {
        "country:US", "country:CN"}
    assert {m.entity_id for m in mentions(extractor, "남북 관계가 풀렸다.") if m.method == "compound"} == {
        "country:KR", "country:KP"}


@pytest.mark.parametrize("text, china", [
    ("정부는 대(對)중 수출 통제를 강화했다.", True),
    ("미국의 대중국 견제가 거세다.", True),
    ("대중 수출이 줄었다.", True),
    ("대중 앞에서 연설했다.", False),
    ("대중교통 요금이 올랐다.", False),
])
def test_dae_china_only_in_that_sense(extractor, text, china):
    assert ("country:CN" in ids(mentions(extractor, text))) is china


def test_dae_china_span_is_the_china_part(extractor):
    m = next(m for m in mentions(extractor, "미국의 대중국 견제가 거세다.") if m.entity_id == "country:CN")
    assert m.text == "중국" and m.method == "dae_china"


@pytest.mark.parametrize("text, wrong", [
    ("한미 FTA 협상이 시작됐다.", "org:ft"),
    ("KTX 요금이 올랐다.", "org:kt"),
])
def test_latin_acronyms_never_match_inside_longer_words(extractor, text, wrong):
    found = ids(mentions(extractor, text))
    assert wrong not in found
    assert not any(m.text in ("FT", "KT") for m in mentions(extractor, text))


def test_latin_acronym_alone_matches(extractor):
    assert "org:kt" in ids(mentions(extractor, "KT는 5G 투자를 늘렸다."))


@pytest.mark.parametrize("text", ["엔비디아마저도 중국 시장을 두드린다.", "엔비디아조차 밀렸다.", "엔비디아처럼 성장했다.",
                                  "엔비디아보다 빠르다.", "엔비디아라는 회사", "엔비디아에서는 부인했다.", "엔비디아와의 협력"])
def test_name_followed_by_particles(extractor, text):
    assert "org:nvidia" in ids(mentions(extractor, text))


@pytest.mark.parametrize("text, iso2, expected", [
    ("이는 공급망 영향력을 유지하려는 전략이란 해석이다.", "IR", False),
    ("이란은 핵 협상을 재개했다.", "IR", True),
    ("물품 인도 시점을 앞당겼다.", "IN", False),
    ("인도는 반도체 공장을 유치했다.", "IN", True),
    ("인도적 지원을 늘렸다.", "IN", False),
    ("다른 수단을 찾아야 한다.", "SD", False),
    ("오만을 버려야 한다.", "OM", False),
])
def test_country_names_that_are_common_words(extractor, text, iso2, expected):
    assert (f"country:{iso2}" in ids(mentions(extractor, text))) is expected


def test_office_title_resolves_to_the_office(extractor):
    ms = mentions(extractor, "마이클 크라치오스 백악관 과학기술정책실장이 협약서에 서명했다.")
    assert "org:us_ostp" in ids(ms) and "org:us_white_house" not in ids(ms)
    person = next(m for m in ms if m.entity_type == "PERSON")
    assert (person.entity_id, person.title, person.affiliation_id) == ("person:michael_kratsios", "실장", "org:us_ostp")


@pytest.mark.parametrize("text, person, title, affiliation", [
    ("안덕근 산업부 장관이 방미했다.", "person:an_dukgeun", "장관", "org:kr_motie"),
    ("젠슨 황 엔비디아 CEO는 말했다.", "person:jensen_huang", "CEO", "org:nvidia"),
    ("지나 러몬도 미국 상무부 장관과 만났다.", "person:gina_raimondo", "장관", "org:us_doc"),
])
def test_people_get_their_title_and_affiliation(extractor, text, person, title, affiliation):
    m = next(m for m in mentions(extractor, text) if m.entity_type == "PERSON")
    assert (m.entity_id, m.title, m.affiliation_id) == (person, title, affiliation)


def test_unlisted_person_by_title_and_later_by_family_name(extractor):
    ms = mentions(extractor, "김철수 산업부 차관은 10일 방미했다. 김 차관은 상무부와 협의했다.")
    people = [m for m in ms if m.entity_type == "PERSON"]
    assert [m.key for m in people] == ["new:person:김철수", "new:person:김철수"]
    assert people[0].title == "차관" and people[0].affiliation_id == "org:kr_motie"


def test_unlisted_org_by_the_model(extractor):
    ms = mentions(extractor, "서울 강남구에 본사를 둔 한빛반도체는 이날 신규 공장 건설 계획을 발표했다.")
    assert any(m.entity_type == "ORG" and "한빛반도체" in m.text for m in ms)


def test_offsets_are_exact(extractor):
    text = "윤석열 대통령은 21일 일본 도쿄에서 기시다 후미오 일본 총리와 정상회담을 했다."
    for sent in split_sentences([text])[0]:
        for m in extractor.sentence(sent, {}):
            assert sent.text[m.start:m.end] == m.text
    assert "person:fumio_kishida" in ids(mentions(extractor, text))


def test_analyse_batch_rows_match_the_schema_and_drop_generic_names():
    sentences, rows = analyse_batch([("a", "정부는 경찰과 함께 대책을 세웠다. 안덕근 산업부 장관이 밝혔다.")], REF)
    assert len(sentences) == 2
    assert all(len(r) == len(MENTION_SCHEMA) for r in rows)
    keys = [r[6] for r in rows]
    assert "new:org:정부" not in keys and "new:org:경찰" not in keys
    person = next(r for r in rows if r[6] == "person:an_dukgeun")
    assert person[10:12] == ("장관", "org:kr_motie")


@pytest.mark.parametrize("text, letters", [
    ("한·미는 오는 22일 회의를 연다.", {"country:KR", "country:US"}),
    ("한·사우디아라비아·베트남 장관들은 회의를 마쳤다.", {"country:KR"}),
    ("EU·영은 회의를 열었다.", {"country:GB"}),
])
def test_dotted_lists_with_particles_and_full_names(extractor, text, letters):
    assert {m.entity_id for m in mentions(extractor, text) if m.method == "compound"} == letters


def test_dotted_words_that_are_not_parties_are_not_countries(extractor):
    assert not [m for m in mentions(extractor, "산업·통상 정책을 논의했다.") if m.entity_type == "COUNTRY"]


# -- the warehouse: marts built from the sample articles (conftest's sample_run) --------------
def test_people_roles_mart(sample_run):
    from conftest import query

    db, _ = sample_run
    roles = query(db, "select person_id, title, organization_id from marts.dim_person_role")
    assert ("person:an_dukgeun", "장관", "org:kr_motie") in roles
    assert ("person:michael_kratsios", "실장", "org:us_ostp") in roles
    assert all(r[0].startswith(("person:", "new:person:")) for r in roles)


def test_mentions_carry_roles_and_compound_members(sample_run):
    from conftest import query

    db, _ = sample_run
    titled = query(db, "select count(*) from marts.fct_entity_mention where title is not null")[0][0]
    assert titled >= 10
    # 한·미·일 in the sample gives Japan a mention of its own
    japan = query(db, """select count(*) from marts.fct_entity_mention
                         where entity_id = 'country:JP' and method = 'compound'""")[0][0]
    assert japan >= 1


def test_discovered_names_are_flagged_and_listed_for_review(sample_run):
    from conftest import newsetl, query

    db, _ = sample_run
    flags = dict(query(db, "select entity_id, discovered from marts.dim_entity"))
    assert flags["country:US"] is False
    assert all(flags[k] for k in flags if k.startswith("new:"))
    result = newsetl("entities", "review", "--db", str(db), "--min-articles", "1")
    assert result.returncode == 0, result.stderr
    assert "discovered names" in result.stderr


def test_person_with_title_in_unseen_sentence_has_exact_offsets(extractor):
    text = "이번 대책은 박서진 국토교통부 차관이 발표했다."
    person = next(m for m in mentions(extractor, text) if m.entity_type == "PERSON")
    assert (person.start, person.end, person.text) == (7, 10, "박서진")
    assert (person.title, person.affiliation_id) == ("차관", "org:kr_molit")


@pytest.mark.parametrize("text", [
    "대우건설 사장과 유치원 원장이 만났다.",  # the organization a title heads
    "여러 관급 공사를 수주했다.",  # 공사 the construction work, not the diplomat
    "김모(41)씨는 성매매 여성 이모씨와 함께 입건됐다.",  # the name is glued to 씨; 성매매 is no name
    "대구시 중구 대신동 대구 서문시장에서 불이 났다.",  # 서문시장 a market: no 시장 (mayor) glued to a name
    "장남이 운영 중인 서초동 시공사 본사가 포함됐다.",  # 시공사 a firm, not 시 + 공사
    "경남 밀양 송전탑 공사를 둘러싼 대치가 계속됐다.",  # a listed place before the words is no name
])
def test_title_words_do_not_make_people_of_common_words(extractor, text):
    people = [m.text for m in mentions(extractor, text) if m.entity_type == "PERSON"]
    assert all(len(p) == 1 for p in people)  # at most the surnames of 김모씨, 이모씨


@pytest.mark.parametrize(("text", "person"), [
    ("현대차는 공장을 짓는다고 정의선 회장이 말했다.", "정의선"),  # 짓는다고: 짓/VV-I, an irregular verb
    ("삼성전자는 미국에 공장을 짓는다고 이재용 회장이 밝혔다.", "이재용"),
    ("정부는 기업을 돕는다고 박민준 차관이 밝혔다.", "박민준"),  # 돕/VV-I, before a name nobody listed
])
def test_a_conjugated_verb_before_a_name_and_title_is_no_part_of_the_name(extractor, text, person):
    assert [m.text for m in mentions(extractor, text) if m.entity_type == "PERSON"] == [person]


@pytest.mark.parametrize("text", [
    "네덜란드 정부는 ASML의 심자외선 노광장비 수출을 제한한다고 밝혔다.",
    "일본은 DUV 장비의 중국 수출을 통제하기로 했다.",
    "ASML은 심자외선(DUV) 노광장비 일부 모델에 대해 수출 허가를 받아야 한다.",
])
def test_duv_lithography_beside_euv_is_a_technology_of_its_own(extractor, text):
    # the older machines that the 2023 Dutch and Japanese controls added to the EUV ones
    assert "tech:duv" in ids(mentions(extractor, text)) and "tech:euv" not in ids(mentions(extractor, text))


def test_listed_org_inside_a_longer_name_is_not_that_org(extractor):
    ms = mentions(extractor, "서울지방경찰청은 이날 수사 결과를 발표했다.")
    assert "org:kr_police" not in ids(ms)


def test_side_and_demonym_and_our_country_are_linked_but_not_name_spans(extractor):
    north = next(m for m in mentions(extractor, "북측은 회담에 불참했다.") if m.entity_id == "country:KP")
    assert (north.start, north.end, north.nested) == (0, 1, False)
    ms = mentions(extractor, "우리나라 수출이 늘었다고 한국인 관광객들이 말했다.")
    assert [(m.text, m.entity_id, m.nested) for m in ms] == [("우리나라", "country:KR", True), ("한국", "country:KR", True)]


def test_org_name_keeps_its_head_noun(extractor):
    m = next(m for m in mentions(extractor, "AFP 통신은 28일 이같이 전했다.") if m.entity_id == "org:afp")
    assert (m.start, m.end) == (0, 6)


def test_a_places_office_found_by_the_model_is_an_organization(extractor):
    m = next(m for m in mentions(extractor, "대구 수성구청은 이날 주민 설명회를 열었다.") if "수성구청" in m.text)
    assert (m.start, m.end, m.entity_type) == (0, 7, "ORG")


def test_countries_get_their_own_gazetteer_mark_for_the_model(extractor):
    sent = extractor.analyse(["미국 텍사스에서 삼성전자가 공장을 지었다."])[0]
    us, gaz = extractor.ner_inputs(sent)
    marks = {u.text: g for u, g in zip(us, gaz, strict=True)}
    assert (marks["미국"], marks["텍사스"], marks["에서"]) == ("B-CT", "B-LC", "O")
    assert marks["삼성전자"] == "B-OG" or marks.get("삼성") == "B-OG"


@pytest.mark.parametrize("text, person, title", [
    ("선우재민 국토교통부 제2차관은 이날 현장을 찾았다.", "선우재민", "차관"),  # a two-syllable surname
    ("한지훈 대통령실 경제안보비서관은 말했다.", "한지훈", "비서관"),  # not one organization with the office
    ("박형준 부산시장은 이날 말했다.", "박형준", "부산시장"),  # the title glued to a listed place
    ("은수미 성남시장은 이날 말했다.", "은수미", "성남시장"),  # to an unlisted town, after a Korean full name
    ("조은희 서초구청장은 이날 말했다.", "조은희", "서초구청장"),  # glued to an office's name
    ("중국 류샤오밍 부주석이 방한했다.", "류샤오밍", "부주석"),  # the country before the name is not part of it
])
def test_titled_people_that_the_rules_used_to_refuse(text, person, title):
    # the pipeline's own filter: discovered names it is unsure of never reach the warehouse
    _, rows = analyse_batch([("a", text)], REF)
    people = {(r[4], r[10]) for r in rows if r[5] == "PERSON"}
    assert (person, title) in people


@pytest.mark.parametrize("text, person, title", [
    ("응우옌떤롱 베트남 총리는 이날 한국에 대한 수출 통제 조치를 발표했다.", "응우옌떤롱", "총리"),
    ("저우샤오밍 중국 총리는 이날 베를린에서 정상회담을 열고", "저우샤오밍", "총리"),
])
def test_an_unfamiliar_name_before_a_title_is_kept_with_full_confidence(extractor, text, person, title):
    # the model is unsure of such a name (below the pipeline's bar), but the title after it settles it
    p = next(m for m in mentions(extractor, text) if m.entity_type == "PERSON")
    assert (p.text, p.title, p.confidence) == (person, title, 1.0)
    _, rows = analyse_batch([("a", text)], REF)
    assert (person, "PERSON") in {(r[4], r[5]) for r in rows}


def test_a_persons_name_does_not_end_in_a_listed_country():
    from newsetl.entities import _trim_affiliation

    text = "저우밍더 중국 총리는"
    country = Mention(5, 7, "중국", "COUNTRY", "country:CN", "중국", "gazetteer")
    assert _trim_affiliation(text, (0, 7, "PS", 0.6, True), [country]) == (0, 4, "PS", 0.6, True)
    assert _trim_affiliation(text, (5, 7, "PS", 0.6, True), [country]) == (5, 7, "PS", 0.6, True)


def test_a_byline_sign_stops_the_name_before_a_title(extractor):
    text = "(서울=뉴스1) 송준진 기자 = 남궁민재 산업통상자원부 통상교섭본부장은 지난해 조치를 발표했다."
    people = {m.text: m.title for m in mentions(extractor, text) if m.entity_type == "PERSON"}
    assert people.get("남궁민재") == "본부장"
    assert people.get("송준진") != "본부장"  # the reporter is not the one the title names


def test_a_foreign_name_kiwi_reads_as_a_sentence_ending_stays_in_its_sentence(extractor):
    # kiwi reads 라오 as an ending (이 + 라오) and ends a sentence after it; no sentence ends so
    text = "프리야 라오 인도 재무장관은 이날 관세 인하를 발표했다."
    assert [s.text for s in split_sentences([text])[0]] == [text]
    assert "프리야 라오" in {m.text for m in mentions(extractor, text) if m.entity_type == "PERSON"}
    # nor at a comma, or at a connective ending kiwi took for a final one (있겠으니)
    text = "기상청은 산간에 얼음이 어는 곳이 있겠으니 농작물 관리에 유의해달라고 당부했습니다."
    assert len(split_sentences([text])[0]) == 1


def test_a_names_spelling_in_brackets_is_the_same_name_again(extractor):
    text = "상하이(上海) 당국과 상하이협력기구(SCO)가 합의했다."
    by_text = {m.text: m for m in mentions(extractor, text) if not m.nested}
    assert (by_text["上海"].entity_id, by_text["上海"].method) == ("loc:shanghai", "gloss")
    assert (by_text["上海"].start, by_text["上海"].end) == (4, 6)
    assert by_text["SCO"].entity_id == "org:sco"  # a listed alias: the gazetteer's
    # only a person's, an organization's or a place's name gets its gloss (인공지능 is a technology)
    assert all(m.method != "gloss" for m in mentions(extractor, "인공지능(AI) 규제가 늘었다."))


def test_a_short_form_in_brackets_is_the_same_organization_again(extractor):
    text = "한국무역보험공사(무보)와 대외경제정책연구원(이하 대외연)이 보고서를 냈다."
    by_text = {m.text: m for m in mentions(extractor, text) if not m.nested}
    assert (by_text["무보"].entity_id, by_text["무보"].method) == ("org:ksure", "gloss")
    assert (by_text["무보"].start, by_text["무보"].end) == (9, 11)
    assert by_text["대외연"].entity_id == "org:kiep"
    # a bracket whose syllables are not the name's, in order, names something else (here its seat)
    ms = mentions(extractor, "대외경제정책연구원(세종시)은 보고서를 냈다.")
    assert all(m.method != "gloss" for m in ms)


def test_kiwi_without_its_typo_dictionary_reads_the_sample_the_same():
    """newsetl builds kiwi without its typo dictionary (a faster set-up, nlp.KIWI_OPTIONS): on edited news that
    must change nothing the extractor reads."""
    from pathlib import Path

    from kiwipiepy import Kiwi

    from newsetl import nlp

    folder = Path(__file__).resolve().parent.parent / "seeds" / "articles"
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
    assert len(texts) == 5 and nlp.KIWI_OPTIONS == {"load_typo_dict": False}

    def read(kiwi) -> list[list[tuple]]:
        return [[(t.form, t.tag, t.start, t.len) for t in toks] for toks in kiwi.tokenize(texts)]

    ours = read(nlp.kiwi())  # the process's analyzer, as the pipeline builds it
    assert ours == read(Kiwi(num_workers=1)) and sum(map(len, ours)) > 2000


def test_an_anonymous_letter_is_no_entity(extractor):
    # 'A 기자' in one article is not the 'A 기자' of another: no entity links them
    text = "검찰 출입기자 등과 술자리를 하면서 동석한 한 중앙일간지 A 기자를 맥주병으로 폭행했다."
    people = [m for m in mentions(extractor, text) if m.entity_type == "PERSON"]
    assert people and all(m.generic for m in people)
    _, rows = analyse_batch([("a", text)], REF)
    assert not [r for r in rows if r[5] == "PERSON"]


def test_a_title_after_another_name_is_not_this_ones(extractor):
    # 나인뮤지스 ends in a particle: 가수 and 씨 belong to 류세라
    text = "그룹 나인뮤지스를 탈퇴한 가수 류세라 씨가 첫 솔로 앨범을 냈다."
    _, rows = analyse_batch([("a", text)], REF)
    assert {(r[4], r[10]) for r in rows if r[5] == "PERSON"} == {("류세라", "씨")}


def test_a_reporters_sign_off_names_the_reporter_not_the_reporter_and_title():
    # the model's span carries 기자: the entity is 최수동, with 기자 as the title, as in '배 부총리'
    text = "징역 10년을 구형한 것이다.\n\n최수동 기자 (choisd@newsis.com)\n\n이 기사를 추천합니다"
    _, rows = analyse_batch([("a", text)], REF)
    assert {(r[8], r[10]) for r in rows if r[5] == "PERSON"} == {("최수동", "기자")}


def test_a_countrys_ministry_that_no_list_has_is_an_organization_with_its_country_inside(extractor):
    ms = mentions(extractor, "바흘릴 라하달리아 인도네시아 에너지광물자원부 장관은 자카르타에서 말했다.")
    ministry = next(m for m in ms if m.entity_type == "ORG")
    # kiwi reads no proper noun in it, yet it names one body: an entity of its own, not a generic phrase
    assert (ministry.text, ministry.entity_id, ministry.nested, ministry.generic) == (
        "인도네시아 에너지광물자원부", None, False, False)
    country = next(m for m in ms if m.entity_id == "country:ID")
    assert country.nested
    # a listed ministry after its country is the listed one, its country beside it
    listed = mentions(extractor, "한국 산업통상자원부는 영향이 작을 것이라고 평가했다.")
    assert ("산업통상자원부", "org:kr_motie") in {(m.text, m.entity_id) for m in listed}
    assert not [m for m in listed if m.entity_type == "ORG" and not m.entity_id and not m.generic]
    short = mentions(extractor, "인도 광산부는 리튬 수입을 늘리겠다고 밝혔다.")
    assert [(m.text, m.generic) for m in short if m.entity_type == "ORG"] == [("인도 광산부", False)]
    # a body of people or a region is no ministry
    for text in ("중국 최고지도부는 이날 회의를 열었다.", "미국 북동부에 폭설이 내렸다."):
        assert not [m for m in mentions(extractor, text) if m.entity_type == "ORG" and not m.generic], text


def test_a_name_after_a_kind_of_company_is_that_company(extractor):
    ms = mentions(extractor, "미국 상무부는 중국 반도체 장비업체 나우라를 명단에 추가했다.")
    assert [(m.text, m.entity_type) for m in ms if m.text == "나우라"] == [("나우라", "ORG")]
    # the model reads an organization it is unsure of (0.76); the kind before it makes it sure
    ms = mentions(extractor, "중국 상무부가 네덜란드 반도체 기업 넥스페리아의 제품 수출 금지를 해제했다.")
    assert [(m.entity_type, m.confidence) for m in ms if m.text == "넥스페리아"] == [("ORG", 1.0)]


def test_a_name_the_model_is_unsure_of_is_kept_where_the_article_names_it_surely():
    text = ("중국 상무부가 네덜란드 반도체 기업 넥스페리아의 제품 수출 금지를 해제했다. "
            "네덜란드 정부는 중국 윙테크가 소유한 넥스페리아의 경영권을 사실상 접수했다.")
    _, rows = analyse_batch([("a", text)], REF)
    assert [(r[1], r[4]) for r in rows if r[6] == "new:org:넥스페리아"] == [(0, "넥스페리아"), (1, "넥스페리아")]
    # alone, the second sentence's reading (0.51) makes no entity
    _, alone = analyse_batch([("b", "네덜란드 정부는 중국 윙테크가 소유한 넥스페리아의 경영권을 사실상 접수했다.")], REF)
    assert not [r for r in alone if r[6] == "new:org:넥스페리아"]


def test_a_listed_name_that_starts_with_its_country_mentions_that_country(extractor):
    ms = mentions(extractor, "대만 TSMC가 일본 구마모토에 공장을 지었다.")
    assert ("대만 TSMC", "org:tsmc", False) in {(m.text, m.entity_id, m.nested) for m in ms}
    assert ("대만", "country:TW", True) in {(m.text, m.entity_id, m.nested) for m in ms}


def test_the_organization_before_a_titled_name_is_the_persons(extractor):
    ms = mentions(extractor, "산업통상자원부 박성택 차관은 회의에서 밝혔다. 중국 외교부 린젠 대변인은 반대했다.")
    roles = {m.text: (m.title, m.affiliation_id) for m in ms if m.entity_type == "PERSON"}
    assert roles["박성택"] == ("차관", "org:kr_motie")
    assert roles["린젠"][0] == "대변인" and roles["린젠"][1].startswith("org:cn_")
    # a list before the name is not its organization
    listed = mentions(extractor, "삼성전자, 박성택 차관이 참석했다.")
    assert [(m.title, m.affiliation_id) for m in listed if m.entity_type == "PERSON"] == [("차관", None)]


def test_a_foreign_name_kiwi_reads_as_common_nouns_before_a_listed_affiliation_and_title(extractor):
    ms = mentions(extractor, "아슈위니 바이슈나우 인도 전자정보기술부 장관은 29일 내각의 결정을 밝혔다.")
    [person] = [m for m in ms if m.entity_type == "PERSON"]
    assert (person.text, person.title) == ("아슈위니 바이슈나우", "장관")
    # words in other roles before an affiliation and title are no name
    for text in ("당시 한편 미국 상무부 장관은 말했다.", "반도체 업계 미국 상무부 장관이 참석했다."):
        assert not [m for m in mentions(extractor, text) if m.entity_type == "PERSON"], text


def test_a_name_ending_in_a_states_ju_is_a_place_not_an_organization(extractor):
    ms = mentions(extractor, "미국 마이크론은 지난해 구자라트주에 패키징 공장을 착공했다.")
    assert [m.entity_type for m in ms if m.text == "구자라트주"] == ["LOCATION"]
    # a holding company keeps its type
    assert [m.entity_type for m in mentions(extractor, "우리금융지주는 이날 실적을 발표했다.")] == ["ORG"]


def test_a_place_does_not_end_in_the_goods_made_there(extractor):
    ms = mentions(extractor, "포스코퓨처엠은 제너럴모터스(GM)와 합작한 캐나다 퀘벡주 양극재 공장을 착공했다.")
    assert not [m for m in ms if m.entity_type == "LOCATION" and "양극재" in m.text]
    assert [m.entity_type for m in ms if m.text == "양극재"] == ["COMMODITY"]


def test_a_country_name_before_a_states_office_is_the_state(extractor):
    ms = mentions(extractor, "브라이언 켐프 조지아 주지사도 행사에 참석했다.")
    assert [(m.text, m.entity_type) for m in ms if m.text == "조지아"] == [("조지아", "LOCATION")]
    country = mentions(extractor, "조지아 정부는 이날 성명을 냈다.")
    assert [m.entity_type for m in country if m.text == "조지아"] == ["COUNTRY"]


def test_a_bare_office_name_is_the_office_the_article_named_with_its_country(extractor):
    # '상무부' is listed for the US; after '중국 상무부' an article's '상무부 대변인' speaks for China
    ms = mentions(extractor, "중국 상무부는 즉각 반발했다. 허야둥 상무부 대변인은 정례 브리핑에서 대응을 예고했다. "
                             "미국 상무부는 이를 반박했다. 상무부 관계자는 추가 조치를 예고했다.")
    offices = [(m.text, m.entity_id) for m in ms if m.entity_type == "ORG" and not m.nested]
    assert offices == [("중국 상무부", "org:cn_mofcom"), ("상무부", "org:cn_mofcom"),
                       ("미국 상무부", "org:us_doc"), ("상무부", "org:us_doc")]
    [spokesman] = [m for m in ms if m.text == "허야둥"]
    assert (spokesman.title, spokesman.affiliation_id) == ("대변인", "org:cn_mofcom")
    # with no country named before it, the bare name keeps its listing
    assert [m.entity_id for m in mentions(extractor, "상무부는 수출 통제를 발표했다.") if m.entity_type == "ORG"] \
        == ["org:us_doc"]
    # the home government's offices go by bare names: after '중국 외교부', '외교부 당국자' is still Seoul's
    ms = mentions(extractor, "중국 외교부는 유감을 표명했다. 외교부 당국자는 차분히 대응하겠다고 밝혔다.")
    assert [(m.text, m.entity_id) for m in ms if m.entity_type == "ORG" and not m.nested] == [
        ("중국 외교부", "org:cn_mfa"), ("외교부", "org:kr_mofa")]



def test_an_unlisted_company_after_its_country_is_an_organization(extractor):
    # the model reads '중국 화유코발트' as one span: the company was set aside with the reading convention around it
    ms = mentions(extractor, "중국 화유코발트는 이번 합작에 반대하며 칠레 법원에 소송을 냈다.")
    assert [(m.text, m.key, m.nested) for m in ms if m.entity_type in ("ORG", "COUNTRY") and not m.generic] == [
        ("중국", "country:CN", True), ("화유코발트", "new:org:화유코발트", True), ("칠레", "country:CL", True)]
    # a listed company keeps its listing, and nothing generic becomes an organization
    ms = mentions(extractor, "중국 화웨이와 미국 정부, 중국 당국이 모였다.")
    assert {m.key for m in ms if m.entity_type == "ORG" and not m.generic} == {"org:huawei"}
    # the model is unsure of the span (0.54), kiwi reads a proper noun after the country: the company is sure
    ms = mentions(extractor, "네덜란드 정부는 중국 윙테크가 소유한 회사의 경영권을 접수했다.")
    assert [(m.key, m.confidence) for m in ms if m.text == "윙테크"] == [("new:org:윙테크", 1.0)]


def test_a_name_listed_between_two_organizations_is_one(extractor):
    def orgs(text: str) -> list[tuple[str, str]]:
        return [(m.text, m.method) for m in mentions(extractor, text)
                if m.entity_type == "ORG" and not m.nested and not m.generic]

    # names no list has: the model types '교세라' a person, or is unsure of '피오테크'
    assert orgs("TSMC는 소니그룹, 마쓰다, 도요타자동차와 함께 합작사를 운영한다.") == [
        ("TSMC", "gazetteer"), ("소니그룹", "gazetteer"), ("마쓰다", "list"), ("도요타자동차", "gazetteer")]
    assert ("교세라", "list") in orgs("삼성전자, 교세라와 도요타자동차가 참여했다.")
    assert ("피오테크", "list") in orgs("장비업체 나우라, 피오테크와 AMEC가 수혜를 입었다.")
    # a kind of company before the list names its last item too
    assert ("아이루카", "list") in orgs("고려아연은 호주 광산업체 라이너스, 아이루카와 각각 공급 계약을 맺었다.")
    assert ("아이루카", "list") not in orgs("고려아연은 라이너스, 아이루카와 각각 공급 계약을 맺었다.")
    # a common word between them stays what it is, and countries make no organization list
    assert [m.text for m in mentions(extractor, "삼성전자, 반도체, 도요타자동차") if m.entity_type == "ORG"] == [
        "삼성전자", "도요타자동차"]
    assert not [m for m in mentions(extractor, "한국, 대만, 일본이 모였다.") if m.method == "list"]


def test_an_office_named_with_and_without_its_country_in_one_sentence_is_two_offices(extractor):
    ms = mentions(extractor, "중국 상무부는 반발했다. 중국 상무부와 상무부는 14일 협력 MOU를 체결했다. 상무부와 中 상무부는 만났다.")
    assert [(m.text, m.entity_id) for m in ms if m.entity_type == "ORG" and not m.nested] == [
        ("중국 상무부", "org:cn_mofcom"), ("중국 상무부", "org:cn_mofcom"), ("상무부", "org:us_doc"),
        ("상무부", "org:us_doc"), ("中 상무부", "org:cn_mofcom")]
