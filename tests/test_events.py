"""Event candidates from Korean sentences: PLOVER types and modes, arguments by case particle, dates, modality."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from newsetl.analysis import MENTION_SCHEMA, SENTENCE_SCHEMA, analyse_batch
from newsetl.event_roles import Party, assign_roles, compound_parties, gazetteer, marker
from newsetl.events import (
    CANDIDATE_SCHEMA,
    Candidate,
    _event_extractor,
    clauses,
    documents,
    event_candidates,
    expand,
    load_macros,
    load_triggers,
)

ROOT = Path(__file__).resolve().parent.parent
REF = str(ROOT / "seeds" / "reference")
P = date(2025, 10, 29)


def extract(text: str, published: date | None = P, title: str | None = None) -> list[Candidate]:
    """Candidates of a one-paragraph article, through the real sentence splitter and entity extractor."""
    full = f"{title}\n{text}" if title else text
    sentences, mentions = analyse_batch([("sha", full)], REF)
    articles = pl.DataFrame({"article_id": ["a"], "text_sha": ["sha"], "published_date": [published],
                             "title_chars": [len(title) if title else 0]},
                            schema={"article_id": pl.String, "text_sha": pl.String, "published_date": pl.Date,
                                    "title_chars": pl.Int64})
    [(_, when, titles, doc)] = documents(articles, pl.DataFrame(sentences, schema=SENTENCE_SCHEMA, orient="row"),
                                         pl.DataFrame(mentions, schema=MENTION_SCHEMA, orient="row"))
    return _event_extractor(REF).article(doc, when, titles)


def one(text: str, published: date | None = P, **kw) -> Candidate:
    found = extract(text, published, **kw)
    assert len(found) == 1, [(c.event_type, c.trigger_text) for c in found]
    return found[0]


def roles(c: Candidate, role: str) -> set[str]:
    return {k for k, r in c.participants if r == role}


# --- the lexicon --------------------------------------------------------------------------

def test_trigger_lexicon_expands_its_macros_and_names_design_types():
    triggers = load_triggers(Path(REF))
    assert {t.event_type for t in triggers} >= {"CONSULT", "AGREE", "SANCTION", "CONCEDE", "COOPERATE", "AID",
                                                 "REQUEST", "THREATEN", "INVEST"}
    assert not [t.trigger_id for t in triggers if re.search(r"\{[A-Z]+\}", t.pattern.pattern)]
    macros = load_macros(Path(REF))
    assert "했" in macros["HA"] and "{HA}" not in macros["ENACT"]
    with pytest.raises(ValueError, match="unknown macro"):
        expand("회담{NOPE}", macros)


def test_clauses_split_on_connective_endings_and_full_stops():
    text = "미국은 관세를 인하해줬고, 중국은 통제를 유예했다. 이어 회담을 열었다"
    assert [text[a:b].strip() for a, b in clauses(text)] == [
        "미국은 관세를 인하해줬고,", "중국은 통제를 유예했다.", "이어 회담을 열었다"]


# --- types and modes ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "event_type", "mode"), [
    ("미국은 10일 중국에 대한 희토류 수출 통제 조치를 발표했다.", "SANCTION", "export_control"),
    ("영국은 8일 미국 기업 12곳을 수출 제한 명단(엔티티 리스트)에 추가했다.", "SANCTION", "entity_list"),
    ("미국은 지난 7월 태국에 대한 반도체 수출을 전면 금지하는 조치를 내놨다.", "SANCTION", "ban"),
    ("중국 상무부는 9일 갈륨과 게르마늄의 미국 수출을 원칙적으로 금지한다고 발표했다.", "SANCTION", "ban"),
    ("한국은 17일 창신메모리를 겨냥해 반도체 관련 제재를 단행했다.", "SANCTION", "sanction"),
    ("칠레는 4일 대만산 코발트에 대한 관세율을 7.5%에서 100%로 올렸다.", "SANCTION", "tariff_raise"),
    ("미국은 10일 중국산 배터리에 대한 관세를 25%에서 50%로 올렸다고 밝혔다.", "SANCTION", "tariff_raise"),
    ("캐나다는 중국산 철강에 대한 관세를 기존 10%에서 25%로 인상했다.", "SANCTION", "tariff_raise"),
    ("미국은 28일 중국에 적용하던 관세를 10%포인트 인하했다.", "CONCEDE", "tariff_cut"),
    ("중국은 희토류 수출 통제 조치를 1년 유예했다.", "CONCEDE", "suspension"),
    ("한국과 미국은 28일 경주에서 정상회담을 열고 경제안보 협력 방안을 논의했다.", "CONSULT", "summit"),
    ("허리펑 중국 부총리와 스콧 베선트 미국 재무장관은 워싱턴에서 추가 협상을 벌일 예정이다.", "CONSULT", "meeting"),
    ("한국은 4일 일본과 전화 회담을 하고 반도체 장비 수출 관리 문제를 논의했다고 밝혔다.", "CONSULT", "call"),
    ("한국과 미국은 29일 반도체 공급망 협력을 위한 업무협약(MOU)을 체결했다.", "AGREE", "mou"),
    ("한·미·일 장관들은 26일 회의를 마친 뒤 반도체 공급망 강화를 골자로 한 공동성명을 채택했다.", "AGREE", "joint_statement"),
    ("삼성전자는 20일 애플에 HBM을 공급하는 신규 계약을 맺었다.", "COOPERATE", "supply_contract"),
    ("삼성전자와 SK하이닉스가 미국 정부의 '미국산 인공지능(AI)' 구상에 동참하겠다는 뜻을 밝혔다.", "COOPERATE",
     "join_programme"),
    ("미국은 16일 TSMC에 AI 반도체 연구개발(R&D) 보조금 3조 원을 지원하기로 했다.", "AID", "subsidy"),
    ("포스코홀딩스는 10일 아랍에미리트에 3억 달러를 투자해 리튬 생산 공장을 짓겠다고 발표했다.", "INVEST", "investment"),
    ("미국은 9일 일본에 반도체 수출 규제에 보조를 맞춰 달라고 요청했다.", "REQUEST", "request"),
    ("네덜란드는 중국에 낸드플래시 시장 개방 확대를 요구했다.", "REQUEST", "demand"),
    ("미국은 7일 일본에 대해 추가 관세 부과 가능성을 거론하며 압박 수위를 높였다.", "THREATEN", "threat"),
    ("일본 정부는 12일 미국의 대중 반도체 수출 규제에 지지를 표명했다.", "SUPPORT", "support"),
    ('왕원타오 중국 상무부장은 "미국이 반도체 통제를 고집하면 단호한 대응 조치를 취할 것"이라고 밝혔다.', "THREATEN",
     "warning"),
    ("네덜란드는 한국의 공급망 협의체 가입 추진을 지지한다고 밝혔다.", "SUPPORT", "support"),
    ("네덜란드 정부는 ASML 노광장비의 중국 수출을 추가로 제한한다고 15일 발표했다.", "SANCTION", "export_control"),
    ("중국 외교부는 3일 미국이 중국 기업을 탄압한다고 비판하며 대응을 예고했다.", "ACCUSE", "accuse"),
    ("유럽연합(EU)은 인도네시아의 니켈 수출 금지를 세계무역기구(WTO)에 제소했다.", "ACCUSE", "accuse"),
    ("중국 톈치리튬은 칠레 정부를 상대로 소송을 제기했다.", "ACCUSE", "accuse"),
    ("인도네시아는 세계무역기구(WTO) 판정에 불복해 항소했다.", "REJECT", "reject"),
    ("중국은 미국의 반도체 수출 통제에 단호히 반대한다고 밝혔다.", "PROTEST", "protest"),
    ("삼성전자는 일본 요코하마에 첨단 패키징 연구개발 거점을 세우기로 했다.", "INVEST", "investment"),
    ("한화에어로스페이스는 지난달 베트남 하노이에 항공기 엔진 부품 공장을 준공했다.", "INVEST", "investment"),
    ("라피더스는 미국 IBM, 벨기에 imec와 기술 협력을 진행하고 있다.", "COOPERATE", "partnership"),
    ("고려아연이 미국 테네시주에 74억달러를 들여 통합 제련소를 짓는다고 15일 밝혔다.", "INVEST", "investment"),
    ("포스코는 아르헨티나에 1조원을 들여 리튬 생산 단지를 조성한다.", "INVEST", "investment"),
    ("미국 인텔은 독일 마그데부르크에 짓기로 했던 반도체 공장 건설 계획을 최종 철회했다.", "RETREAT", "withdrawal"),
    ("일본 정부는 한국과의 반도체 협정을 파기했다.", "RETREAT", "withdrawal"),
    ("한국은 미국에 3500억달러 규모의 투자 펀드를 조성하기로 했다.", "INVEST", "investment"),
    ("네덜란드 정부는 중국 윙테크가 소유한 넥스페리아의 경영권을 사실상 접수했다.", "COERCE", "seize"),
    ("독일 폭스바겐과 보쉬는 중국 정부의 이번 결정을 환영했다.", "SUPPORT", "support"),
    ("중국반도체산업협회는 자국 기업에 미국산 반도체 구매를 자제하라고 권고했다.", "REQUEST", "request"),
    ("한국과 호주는 리튬 제련 기술 공동 연구를 추진하기로 했다.", "COOPERATE", "partnership"),
    ("가브리엘 보리치 칠레 대통령이 리튬 산업을 사실상 국유화하는 전략을 발표했다.", "COERCE", "seize"),
    ("타타그룹은 인도 구자라트주에 반도체 팹을 세운다.", "INVEST", "investment"),
])
def test_one_event_of_the_right_type_and_mode(text, event_type, mode):
    c = one(text)
    assert (c.event_type, c.mode) == (event_type, mode)


@pytest.mark.parametrize("text", [
    "한국 정부는 반도체 공급망에서 특정국 의존도를 낮추기 위해 노력해왔다.",  # context, no event
    "미국 상무부 관계자는 \"공급망 안정을 위해 동맹국과 긴밀히 협력하겠다\"고 설명했다.",  # speech
    "이번 조치로 일본의 희토류 수급에 차질이 빚어질 수 있다는 우려가 제기된다.",
    "업계 관계자는 이날 한국일보와 통화에서 반도체 수요가 늘 것이라고 말했다.",  # an interview
    "중국 업체들은 미국의 관세를 피하려고 배터리 가격을 10% 올렸다.",  # prices raised, not a tariff
    "APEC 정상회의를 계기로 한국과 미국이 AI 생태계를 구축하기로 했다.",  # a summit named as a setting
    "세월호 실종자 가족들은 24일 진도 팽목항을 찾은 해양수산부 장관에게 수색 작업 참여를 강력히 요구했다.",
])
def test_no_event_in_context_speech_settings_or_unrelated_news(text):
    assert extract(text) == []


def test_a_control_that_is_discussed_or_requested_is_a_topic_not_a_sanction():
    found = extract("러몬도 미국 상무장관은 지난달 9일 니시무라 경제산업상과 전화 회담에서 일본이 대중 반도체 "
                    "수출 규제에 보조를 맞춰 달라고 요청했다.")
    assert [c.event_type for c in found] == ["REQUEST"]
    threat = extract("중국은 2일 미국이 흑연 수출 통제를 강행할 경우 상응하는 보복 조치를 취하겠다고 경고했다.")
    assert [(c.event_type, c.mode) for c in threat] == [("THREATEN", "warning")]


def test_a_visit_is_to_a_named_place():
    assert extract("에르도안 튀르키예 총리는 이날 탄광 현장을 찾았다.") == []
    c = one("니시무라 일본 경제산업상이 5일 미국을 찾아 반도체 수출 규제 방안 등을 논의한다.")
    assert (c.event_type, c.mode) == ("CONSULT", "visit")


# --- arguments ------------------------------------------------------------------------------

def test_subject_acts_and_the_object_of_dae_han_is_targeted():
    c = one("미국은 10일 중국에 대한 희토류 수출 통제 조치를 발표했다.")
    assert roles(c, "actor") == {"country:US"} and roles(c, "target") == {"country:CN"}
    assert "commodity:rare_earths" in roles(c, "topic")


def test_a_person_acts_with_the_country_the_sentence_gives():
    c = one("러몬도 미국 상무장관은 9일 일본에 반도체 공급 확대를 공식 요청했다.")
    assert "country:US" in roles(c, "actor") and "country:JP" in roles(c, "target")
    assert any(k.startswith(("person:", "new:person:")) for k in roles(c, "actor"))
    assert "country:US" in c.affiliations


def test_a_wa_b_neun_are_joint_actors_and_a_list_shares_its_last_particle():
    c = one("한국과 미국은 29일 반도체 공급망 협력을 위한 업무협약(MOU)을 체결했다.")
    assert roles(c, "actor") == {"country:KR", "country:US"} and not roles(c, "target")
    c = one("엔비디아는 삼성전자, SK하이닉스, 네이버에 AI 반도체를 공급하는 신규 계약을 체결했다.")
    assert roles(c, "actor") == {"org:nvidia"}
    assert {"org:samsung_electronics", "org:sk_hynix", "org:naver"} <= roles(c, "target")


def test_an_embedded_subject_is_the_target_of_a_threat():
    c = one("중국은 2일 미국이 흑연 수출 통제를 강행할 경우 상응하는 보복 조치를 취하겠다고 경고했다.")
    assert roles(c, "actor") == {"country:CN"} and roles(c, "target") == {"country:US"}


def test_every_member_of_a_compound_list_is_a_party():
    gaz = gazetteer(REF)
    found = compound_parties("미·멕시코·이탈리아는 오는 24일 회의를 연다.", gaz)
    assert [p.key for p in found] == ["country:US", "country:MX", "country:IT"]
    assert compound_parties("중·독은 회의를 연다", gaz)[-1].end == 3  # the particle is not part of the list
    c = one("한·미·일 당국자들은 26일 워싱턴 DC에서 고위급 회의를 열고 반도체 분야 공조 방안을 협의했다.")
    assert {"country:KR", "country:US", "country:JP"} <= roles(c, "actor")


def test_markers_read_the_head_of_a_noun_phrase():
    text = "독일 기업 9곳을 명단에 추가했다"
    assert marker(text, Party(0, 2, "country:DE", "COUNTRY")).kind == "obj"
    text = "미·중 정상회담에서 합의했다"
    assert marker(text, Party(0, 3, "country:US", "COUNTRY")).kind == "event"
    parties = [Party(0, 2, "A", "COUNTRY"), Party(4, 6, "B", "COUNTRY")]
    assert assign_roles("미국과 중국은 회담을 열었다", parties, "CONSULT", 8) == [("A", "actor"), ("B", "actor")]
    assert assign_roles("미국은 중국에 관세를 올렸다", [Party(0, 2, "A", "COUNTRY"), Party(4, 6, "B", "COUNTRY")],
                        "SANCTION", 8) == [("A", "actor"), ("B", "target")]
    # only parties the sentence addresses: the one acting is named elsewhere, and none of them stands in for it
    text = "네덜란드와 일본 정부에도 동참을 요청한 것으로 알려졌다"
    assert assign_roles(text, [Party(0, 4, "NL", "COUNTRY"), Party(6, 8, "JP", "COUNTRY")], "REQUEST", 18) == [
        ("NL", "target"), ("JP", "target")]
    # a headline's bare first party still acts
    assert assign_roles("美, 中에 관세 인상", [Party(0, 1, "US", "COUNTRY"), Party(3, 4, "CN", "COUNTRY")],
                        "SANCTION", 6) == [("US", "actor"), ("CN", "target")]


# --- dates, status, modality -----------------------------------------------------------------

def test_dates_resolve_against_publication_and_status_follows_tense_and_date():
    c = one("한국은 오는 12일 서울에서 일본과 만나 반도체 공급망 협력 방안을 논의할 예정이다.")
    assert (c.date, c.precision, c.status) == (date(2025, 11, 12), "day", "planned")
    c = one("미국은 지난해 8월 중국에 대한 갈륨 수출 통제 조치를 발표했다.")
    assert (c.date, c.precision, c.status, c.date_text) == (date(2024, 8, 1), "month", "reported", "지난해 8월")
    c = one("엔비디아는 삼성전자에 AI 반도체를 공급하는 신규 계약을 체결하고 구체적 내용은 31일 공개할 예정이다.")
    assert (c.date, c.status) == (date(2025, 10, 31), "planned")


def test_a_listed_company_makes_its_deals_news_without_a_country_or_goods():
    c = one("한편 TSMC는 애리조나주 피닉스에 세 번째 공장을 짓기 위해 1000억달러를 추가로 투자하겠다고 발표했다.")
    assert (c.event_type, c.mode) == ("INVEST", "investment")
    # but not its disputes, and an unlisted firm's deals stay someone else's news
    assert extract("특허청은 GS그룹의 상표등록 출원을 거절했다.") == []
    assert extract("동네빵집 행복베이커리는 새 매장에 10억원을 투자하겠다고 밝혔다.") == []


def test_the_end_of_a_period_is_not_the_day_of_the_event():
    c = one("인도네시아 정부가 니켈 원광 수출 금지 조치를 2030년까지 연장한다고 14일 발표했다.", date(2026, 9, 14))
    assert (c.event_type, c.date, c.precision, c.status) == ("SANCTION", date(2026, 9, 14), "day", "reported")


def test_a_date_after_the_trigger_dates_the_report_not_the_next_act():
    # '2028년부터' is when production starts, not when the money is invested
    c = one("SK하이닉스는 인디애나주 공장에 38억7000만달러를 투자해 2028년부터 양산에 들어갈 계획이다.", date(2024, 8, 7))
    assert (c.event_type, c.date, c.status) == ("INVEST", None, "planned")
    c = one("한국과 미국은 반도체 협력에 합의했다고 AP통신이 3일(현지시간) 보도했다.", date(2026, 3, 4))
    assert (c.event_type, c.date) == ("AGREE", date(2026, 3, 3))


def test_a_date_after_the_trigger_dates_the_main_verb_that_the_trigger_describes():
    # the measure is what the revision adds; the revision was promulgated on the 23rd
    c = one("일본 정부가 반도체 제조 장비 23개 품목을 수출 관리 대상에 추가하는 내용의 외환법 개정안을 23일 공포했다.",
            date(2023, 5, 24))
    assert (c.event_type, c.date) == ("SANCTION", date(2023, 5, 23))


def test_this_day_in_a_story_from_abroad_is_its_local_day():
    text = ("도널드 트럼프 미국 대통령이 수입 반도체에 관세를 부과하겠다고 6일(현지시간) 밝혔다. "
            "애플은 이날 미국 내 투자 규모를 6000억달러로 늘리겠다고 발표했다.")
    [invest] = [c for c in extract(text, date(2025, 8, 7)) if c.event_type == "INVEST"]
    assert invest.date == date(2025, 8, 6)
    # in a story from home, or after a day that is not local time, it is the publication date
    text = "산업부는 지난 5일 회의를 열었다. 애플은 이날 미국 내 투자 규모를 6000억달러로 늘리겠다고 발표했다."
    [invest] = [c for c in extract(text, date(2025, 8, 7)) if c.event_type == "INVEST"]
    assert invest.date == date(2025, 8, 7)


def test_an_investigation_of_a_foreign_firm_accuses_it():
    c = one("중국 국가시장감독관리총국이 미국 엔비디아에 대한 반독점 조사에 착수했다고 9일 밝혔다.", date(2024, 12, 10))
    assert (c.event_type, c.mode, c.date) == ("ACCUSE", "investigate", date(2024, 12, 9))
    assert "org:nvidia" in roles(c, "target")


def test_what_a_party_asks_of_others_is_not_its_own_act():
    found = extract("인도네시아는 2020년부터 니켈 원광 수출을 금지하고 자국 내 제련소 건설을 유도해 왔다.", date(2025, 4, 22))
    assert [(c.event_type, c.date) for c in found] == [("SANCTION", date(2020, 1, 1))]


def test_a_measure_lifted_later_is_dated_by_its_lifting():
    # the date nearest the lifting, not the one before the measure it lifts
    lifted = [c for c in extract("일본은 2019년 한국에 대한 반도체 소재 수출 규제를 강화했다가 2023년 해제한 바 있다.",
                                 date(2026, 5, 18)) if c.event_type == "CONCEDE"]
    assert [(c.date, c.precision, c.background) for c in lifted] == [(date(2023, 1, 1), "year", True)]
    c = one("미국은 2025년 중국산 배터리 관세를 2026년 1월 인하했다.", date(2026, 2, 1))
    assert (c.event_type, c.date, c.precision) == ("CONCEDE", date(2026, 1, 1), "month")


def test_a_construction_plan_withdrawn_is_reported_on_the_day_it_was_said():
    # '건설 계획' is a plan's name, not future tense: the bare '24일' is the day before publication
    c = one("미국 인텔이 독일 마그데부르크에 짓기로 했던 반도체 공장 건설 계획을 최종 철회했다고 24일 밝혔다.",
            date(2026, 7, 25))
    assert (c.event_type, c.date, c.status) == ("RETREAT", date(2026, 7, 24), "reported")
    # a headline names the withdrawal without a verb
    assert [c.event_type for c in extract("인텔, 독일 마그데부르크 공장 건설 계획 철회", date(2026, 7, 25))] == ["RETREAT"]
    # what will stand somewhere is still to come
    c = one("삼성전자는 평택에 공장을 지을 예정이며 새 공장은 다음 달 들어설 예정이다.", date(2026, 7, 25))
    assert (c.event_type, c.status) == ("INVEST", "planned")


def test_without_a_publication_date_only_what_the_text_fixes_is_resolved():
    relative = one("미국은 지난달 9일 일본에 반도체 공급 확대를 공식 요청했다.", published=None)
    assert (relative.date, relative.precision, relative.date_text) == (None, "none", "지난달 9일")
    absolute = one("미국은 2024년 5월 3일 도쿄일렉트론에 D램 연구개발 보조금 150억 달러를 지원하기로 했다.",
                   published=None)
    assert (absolute.date, absolute.precision) == (date(2024, 5, 3), "day")


def test_background_negated_and_hypothetical_mentions_are_flagged():
    bg = one("앞서 미국 상무부는 지난해 10월 중국에 반도체 장비 판매를 금지하는 조치를 발표한 바 있다.")
    assert bg.background and not bg.negated and not bg.hypothetical
    neg = one("미국은 이날 중국산 배터리에 관세를 부과하지 않기로 했다.")
    assert neg.negated and not neg.background
    hyp = one("향후 삼성전자가 미국 기업과 AI 컨소시엄을 꾸려 수출 지원 대상에 포함된다면 지원을 받게 된다.")
    assert hyp.hypothetical
    plain = one("미국은 10일 중국에 대한 희토류 수출 통제 조치를 발표했다.")
    assert not (plain.background or plain.negated or plain.hypothetical or plain.title or plain.anaphoric)


def test_headlines_and_back_references_are_marked():
    found = extract("미국은 10일 중국에 대한 희토류 수출 통제 조치를 발표했다.", title="美, 中 희토류 수출통제 강화")
    assert [c.title for c in found] == [False]  # the headline has no verb the lexicon reads as enacted
    found = extract("한국과 미국은 29일 반도체 협력을 위한 업무협약(MOU)을 체결했다.", title="한·미, 반도체 협력 MOU 체결")
    assert [(c.event_type, c.title) for c in found] == [("AGREE", True), ("AGREE", False)]
    c = one("남북 간 입장 차가 좁혀지지 않는 상황에서 열리는 이번 5차 회담은 중요한 고비가 될 전망이다.")
    assert c.anaphoric


def test_candidates_of_several_articles_come_as_rows_of_the_schema():
    texts = {"s1": "미국은 10일 중국에 대한 희토류 수출 통제 조치를 발표했다.",
             "s2": "한국과 미국은 29일 반도체 공급망 협력을 위한 업무협약(MOU)을 체결했다."}
    sentences, mentions = analyse_batch(list(texts.items()), REF)
    articles = pl.DataFrame({"article_id": ["a1", "a2"], "text_sha": ["s1", "s2"], "published_date": [P, P],
                             "title_chars": [0, 0]})
    rows = event_candidates(articles, pl.DataFrame(sentences, schema=SENTENCE_SCHEMA, orient="row"),
                            pl.DataFrame(mentions, schema=MENTION_SCHEMA, orient="row"), REF)
    assert [(r[0], r[2], r[3]) for r in rows] == [("a1", "SANCTION", "export_control"), ("a2", "AGREE", "mou")]
    assert all(len(r) == len(CANDIDATE_SCHEMA) for r in rows)
