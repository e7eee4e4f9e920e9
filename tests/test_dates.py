from __future__ import annotations

from datetime import date

import pytest

from newsetl.dates import DateMention, find_dates, parse_publication_date, parse_timestamp

P = date(2025, 12, 2)


def one(sentence: str, published: date | None = P, anchor: DateMention | None = None, **kw) -> DateMention:
    found = find_dates(sentence, published, anchor, **kw)
    assert len(found) == 1, found
    return found[0]


def resolved(sentence: str, published: date | None = P, **kw) -> list[tuple[str, date | None, str]]:
    return [(m.text, m.date, m.precision) for m in find_dates(sentence, published, **kw)]


# --- every rule of the table, one case each (P = 2025-12-02 unless given) ----------------

@pytest.mark.parametrize(("text", "published", "expected", "precision"), [
    ("2025년 10월 29일", P, date(2025, 10, 29), "day"),
    ("2025.10.29", P, date(2025, 10, 29), "day"),
    ("2025.1.5", P, date(2025, 1, 5), "day"),  # the corpus writes dotted dates unpadded
    ("2025-10-29", P, date(2025, 10, 29), "day"),
    ("2025/10/29", P, date(2025, 10, 29), "day"),
    ("2025년 10월", P, date(2025, 10, 1), "month"),
    ("2023년", P, date(2023, 1, 1), "year"),
    ("10월 29일", P, date(2025, 10, 29), "day"),
    ("10월 30일", date(2026, 1, 3), date(2025, 10, 30), "day"),  # nearest year is the previous
    ("1월 10일", date(2025, 12, 20), date(2026, 1, 10), "day"),  # ... or the next
    ("29일", date(2025, 10, 29), date(2025, 10, 29), "day"),
    ("29일", date(2025, 10, 5), date(2025, 9, 29), "day"),
    ("26일(현지시간)", date(2024, 6, 27), date(2024, 6, 26), "day"),
    ("이날", P, P, "day"),
    ("오늘", P, P, "day"),
    ("전날", P, date(2025, 12, 1), "day"),
    ("어제", date(2025, 1, 1), date(2024, 12, 31), "day"),
    ("내일", date(2025, 12, 31), date(2026, 1, 1), "day"),
    ("지난달 23일", P, date(2025, 11, 23), "day"),
    ("지난달", P, date(2025, 11, 1), "month"),
    ("지난달 9일", date(2023, 1, 4), date(2022, 12, 9), "day"),  # January rolls back a year
    ("지난 8월", P, date(2025, 8, 1), "month"),
    ("지난 12월", P, date(2024, 12, 1), "month"),  # not earlier this month
    ("지난 23일", P, date(2025, 11, 23), "day"),
    ("지난 2일", P, date(2025, 12, 2), "day"),
    ("지난해 8월", date(2024, 6, 27), date(2023, 8, 1), "month"),
    ("지난해", P, date(2024, 1, 1), "year"),
    ("작년", P, date(2024, 1, 1), "year"),
    ("재작년", P, date(2023, 1, 1), "year"),
    ("이달 초", P, date(2025, 12, 1), "month"),
    ("이달 말", P, date(2025, 12, 1), "month"),
    ("이달", P, date(2025, 12, 1), "month"),
    ("오는 12일", P, date(2025, 12, 12), "day"),
    ("오는 3일", date(2025, 12, 20), date(2026, 1, 3), "day"),  # December rolls into next year
    ("오는 2일", P, date(2026, 1, 2), "day"),  # 'coming' excludes today
    ("오는 8월", P, date(2026, 8, 1), "month"),
    ("오는 8월", date(2025, 3, 1), date(2025, 8, 1), "month"),
    ("다음 달 12일", P, date(2026, 1, 12), "day"),
    ("다음 달", P, date(2026, 1, 1), "month"),
    ("다음달", date(2025, 5, 31), date(2025, 6, 1), "month"),
    ("내달", P, date(2026, 1, 1), "month"),
    ("내년 3월", P, date(2026, 3, 1), "month"),
    ("내년", P, date(2026, 1, 1), "year"),
    ("올해 3월", P, date(2025, 3, 1), "month"),
    ("올해", P, date(2025, 1, 1), "year"),
    ("금년", P, date(2025, 1, 1), "year"),
    ("올 3월", P, date(2025, 3, 1), "month"),
    ("8월 말", P, date(2025, 8, 1), "month"),
    ("10월 초", P, date(2025, 10, 1), "month"),
    ("지난해 말", P, date(2024, 1, 1), "year"),
    ("올 초", P, date(2025, 1, 1), "year"),
    ("이 날", P, P, "day"),
])
def test_each_rule(text, published, expected, precision):
    m = one(text, published)
    assert (m.text, m.date, m.precision) == (text, expected, precision)


@pytest.mark.parametrize(("text", "relative", "future"), [
    ("2025년 10월 29일", False, False), ("2025.10.29", False, False), ("2025년", False, False),
    ("29일", True, False), ("이날", True, False), ("지난해 8월", True, False),
    ("오는 12일", True, True), ("오는 8월", True, True), ("다음 달", True, True), ("내달", True, True),
    ("내년 3월", True, True), ("내일", True, True), ("올해", True, False), ("10월 29일", True, False),
])
def test_relative_and_future_flags(text, relative, future):
    m = one(text)
    assert (m.relative, m.future) == (relative, future)


def test_words_around_the_expression_stay_outside_it():
    assert resolved("다가오는 12일 회의") == [("오는 12일", date(2025, 12, 12), "day")]
    assert resolved("이 날부터 시행") == [("이 날", P, "day")]
    assert resolved("이달 말까지 제출") == [("이달 말", date(2025, 12, 1), "month")]
    assert resolved("10월 말레이시아 방문") == [("10월", date(2025, 10, 1), "month")]


def test_offsets_and_text_point_into_the_sentence():
    s = "미국의 관세 위협에 중국은 지난 10월 희토류 수출 통제 조치를 발표했다."
    m = one(s)
    assert (m.start, m.end, m.text, m.date, m.precision) == (15, 21, "지난 10월", date(2025, 10, 1), "month")
    assert s[m.start:m.end] == m.text


def test_parenthesised_time_zone_note_belongs_to_the_mention():
    assert resolved("2025년 10월 29일(현지시간) 발표") == [
        ("2025년 10월 29일(현지시간)", date(2025, 10, 29), "day")]
    assert resolved("28일(미 동부시간) 보도") == [("28일(미 동부시간)", date(2025, 11, 28), "day")]
    assert resolved("20일(한국 시각) 소치에서") == [("20일(한국 시각)", date(2025, 11, 20), "day")]


def test_range_is_one_mention_dated_by_its_start():
    s = "니시무라 야스토시 일본 경제산업상이 5일부터 10일까지 미국을 찾아"
    assert resolved(s, date(2023, 1, 5)) == [("5일부터 10일까지", date(2023, 1, 5), "day")]
    assert resolved("8월부터 10월까지 조사", P) == [("8월부터 10월까지", date(2025, 8, 1), "month")]
    assert resolved("5~10일 방미", date(2023, 1, 12)) == [("5~10일", date(2023, 1, 5), "day")]
    # a start without an end is just the start
    assert resolved("1일부터 시행", P) == [("1일", date(2025, 12, 1), "day")]


# --- numbers that are not dates ----------------------------------------------------------

@pytest.mark.parametrize("sentence", [
    "한·미·일 정상이 캠프 데이비드에서 만났다.",
    "중국은 희토류 수출 통제 조치를 1년 유예했다.",
    "5년 전 발표한 계획",
    "700억 엔 규모 3개국 10% 인상",
    "10%포인트 인하",
    "6개월 만에 재개",
    "15일간 협상, 3일 동안 회의, 30일 만에 타결, 2년간 유예",
    "3일째 이어진 회의",
    "불과 3일 전에 발표했다",
    "90일 이내에 답하라",
    "1990년대 반도체 협정",
    "질주를 내달렸다",
    "오늘날의 공급망",
    "어제오늘 일이 아니다",
    "말레이시아와 중국",
    "32일 13월",
    "사단법인 4월회 관계자들",
    "올 시즌 최다 득점",
    "이 날짜에 맞춰",
    "이 날씨에 이 날개로",
])
def test_not_a_date(sentence):
    assert find_dates(sentence, P) == []


def test_day_inside_a_larger_number_is_not_matched_twice():
    assert resolved("11일 회의", P) == [("11일", date(2025, 11, 11), "day")]
    assert resolved("23일", P) == [("23일", date(2025, 11, 23), "day")]
    assert resolved("2.5일", P) == []


def test_invalid_absolute_dates_are_skipped_whole():
    assert find_dates("2025년 2월 30일 발표", P) == []
    assert find_dates("2025년 13월", P) == []
    assert find_dates("2025.13.01", P) == []


def test_a_date_followed_by_a_word_starting_with_jeon_stays_a_date():
    assert resolved("29일 전 세계 반도체 시장", P) == [("29일", date(2025, 11, 29), "day")]
    assert resolved("29일 후속 조치를 발표", P) == [("29일", date(2025, 11, 29), "day")]


def test_month_day_nearest_year_handles_february_29():
    assert one("2월 29일", date(2025, 3, 10)).date == date(2024, 2, 29)
    assert one("2월 29일", date(2027, 3, 10)).date == date(2028, 2, 29)


def test_bare_day_that_the_previous_month_lacks_goes_further_back():
    # the generator never writes this; the most recent 31st before 5 March is 31 January
    assert one("31일", date(2025, 3, 5)).date == date(2025, 1, 31)
    # an explicit month that lacks the day cannot be resolved
    m = one("지난달 31일", date(2025, 12, 5))
    assert (m.date, m.precision) == (None, "none")


# --- anchors: 같은 달, 같은 해, 같은 날 -------------------------------------------------------------

def test_same_month_follows_the_anchor():
    anchor = one("지난 10월")
    m = one("같은 달 29일 백악관이 공개한 팩트시트", P, anchor)
    assert (m.text, m.date, m.precision) == ("같은 달 29일", date(2025, 10, 29), "day")
    m = one("미국은 같은 달 말 경주에서 열린 정상회담에서", P, anchor)
    assert (m.text, m.date, m.precision) == ("같은 달 말", date(2025, 10, 1), "month")


def test_same_year_and_same_day_follow_the_anchor():
    anchor = one("2023년 8월 18일")
    assert resolved("같은 해 5월", P) == [("같은 해 5월", date(2025, 5, 1), "month")]
    m = one("같은 해 5월", P, anchor)
    assert (m.date, m.precision, m.relative) == (date(2023, 5, 1), "month", True)
    m = one("같은 날", None, anchor)
    assert (m.date, m.precision) == (date(2023, 8, 18), "day")


def test_anchor_chains_within_one_sentence():
    s = "중국은 지난 10월 통제 조치를 발표했고, 미국은 같은 달 말 관세를 내렸다."
    assert resolved(s) == [
        ("지난 10월", date(2025, 10, 1), "month"), ("같은 달 말", date(2025, 10, 1), "month")]


def test_same_month_without_anchor_falls_back_to_publication_month():
    assert resolved("같은 달 29일") == [("같은 달 29일", date(2025, 12, 29), "day")]
    m = one("같은 달 29일", None)
    assert (m.date, m.precision, m.relative) == (None, "none", True)


def test_unresolved_anchor_is_not_used():
    anchor = one("지난 10월", None)
    assert anchor.date is None
    assert one("같은 달 말", P, anchor).date == date(2025, 12, 1)


def test_year_precision_anchor_cannot_give_a_month():
    assert one("같은 달", P, one("2023년")).date == date(2025, 12, 1)


# --- without a publication date ------------------------------------------------------------

def test_without_publication_date_relative_expressions_stay_unresolved():
    s = "2일(현지시간) 블룸버그통신에 따르면 미국은 오는 12일 백악관에서 지난 10월 합의한 2025년 10월 29일"
    found = find_dates(s, None)
    assert [(m.text, m.date, m.precision, m.relative) for m in found] == [
        ("2일(현지시간)", None, "none", True),
        ("오는 12일", None, "none", True),
        ("지난 10월", None, "none", True),
        ("2025년 10월 29일", date(2025, 10, 29), "day", False),
    ]
    assert found[1].future is True


@pytest.mark.parametrize("text", [
    "이날", "전날", "지난달 23일", "지난해 8월", "내년", "10월 30일", "이달 초", "8월", "오는 12일",
])
def test_never_guess_without_publication_date(text):
    m = one(text, None)
    assert (m.date, m.precision, m.relative) == (None, "none", True)


# --- planned: bare days and months read forward -----------------------------------------------

def test_planned_reads_bare_day_forward():
    s = "신규 계약을 체결하고 구체적 내용은 31일 공개할 예정인 것으로 알려졌다."
    assert one(s, date(2025, 10, 29)).date == date(2025, 8, 31)  # the documented backward rule
    assert one(s, date(2025, 10, 29), planned=True).date == date(2025, 10, 31)
    assert one("13일 정상회담을 할 예정", date(2023, 1, 4), planned=True).date == date(2023, 1, 13)
    assert one("3일 발표 예정", date(2025, 12, 20), planned=True).date == date(2026, 1, 3)
    assert one("3월 발표 예정", date(2025, 12, 20), planned=True).date == date(2026, 3, 1)
    # explicit words keep their direction
    assert one("지난 23일", P, planned=True).date == date(2025, 11, 23)


def test_bare_month_is_the_nearest_such_month():
    assert one("10월 희토류 통제", P).date == date(2025, 10, 1)
    assert one("2월", P).date == date(2026, 2, 1)
    assert one("6월", P).date == date(2025, 6, 1)  # six months either way: the past wins


# --- real seed sentences ----------------------------------------------------------------------

@pytest.mark.parametrize(("sentence", "published", "expected"), [
    ("리창 중국 총리는 지난달 23일 남아프리카공화국 주요 20개국(G20) 정상회의에서", P,
     ("지난달 23일", date(2025, 11, 23), "day")),
    ("산업통상자원부는 26일(현지시간) 워싱턴 DC에서 안덕근 산업부 장관이", date(2024, 6, 27),
     ("26일(현지시간)", date(2024, 6, 26), "day")),
    ("이번 회의는 지난해 8월 한·미·일 정상이 캠프 데이비드 회의에서", date(2024, 6, 27),
     ("지난해 8월", date(2023, 8, 1), "month")),
    ("시진핑 중국 국가주석이 10월 30일 부산 김해공군기지 의전실 나래마루에서", date(2026, 1, 3),
     ("10월 30일", date(2025, 10, 30), "day")),
    ("앞서 미국 상무부는 지난해 10월 중국 반도체 생산기업에", date(2023, 1, 4),
     ("지난해 10월", date(2022, 10, 1), "month")),
    ("업계 관계자는 이날 한국일보와 통화에서", date(2025, 11, 24), ("이날", date(2025, 11, 24), "day")),
])
def test_seed_article_sentences(sentence, published, expected):
    assert resolved(sentence, published) == [expected]


# --- publication dates in page text ------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("입력 2025.10.29 14:03", date(2025, 10, 29)),
    ("2025-10-29", date(2025, 10, 29)),
    ("2025년 10월 29일", date(2025, 10, 29)),
    ("date 2025-10-29", date(2025, 10, 29)),
    (" date 2025-10-29 한국과 미국이 아시아태평양경제협력체(APEC) 정상회의를 계기로", date(2025, 10, 29)),
    ("기사입력 2025/10/29", date(2025, 10, 29)),
    ("최종수정 2025.10.30 09:00\n입력 2025.10.29 14:03", date(2025, 10, 29)),
    ("수정 2025.10.30 09:00", date(2025, 10, 30)),
    ("송고시간 2025-10-29 14:03", date(2025, 10, 29)),
    ("2025.10.29 14:03 송고", date(2025, 10, 29)),
    ("기사 스크랩\n공유\n2025.10.29 14:03\n본문", date(2025, 10, 29)),
    ('<span class="date">입력 2025.10.29 14:03</span>', date(2025, 10, 29)),
    ("published_at: 2099-07-15 09:30", date(2099, 7, 15)),  # range checks are the caller's
    ("입력 1890.03.01 10:00", date(1890, 3, 1)),
    ("기사 스크랩\n2025.10.29. 오후 2:03\n본문", date(2025, 10, 29)),  # a portal's stamp, closed by a full stop
    ("2025. 10. 29.", date(2025, 10, 29)),
])
def test_parse_publication_date(text, expected):
    assert parse_publication_date(text) == expected


@pytest.mark.parametrize("text", [
    "본문만 있는 기사. 2023년 8월 캠프 데이비드에서 만났다.",
    "정부는 2025년 10월 29일 발표했다.",  # a date in prose is an event date, not publication
    "그는 2025.10.29. 발표했다.",
    "![관련 기사](https://img.example.com/2025/12/01/ABC_1.jpg)",
    "https://www.etnews.com/news/article/2025/12/01/news-p.v1.20251201.html",
    "등록번호 서울 아00123",
    "update 2025-10-29",
    "입력 2025.02.30 10:00",
    "",
])
def test_parse_publication_date_finds_nothing(text):
    assert parse_publication_date(text) is None


# --- metadata timestamps --------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("2025-10-29T13:32:00+09:00", date(2025, 10, 29)),
    ("2025-10-29T23:59:00+09:00", date(2025, 10, 29)),
    ("2025-10-29 13:32:00", date(2025, 10, 29)),
    ("2025.10.29 13:32", date(2025, 10, 29)),
    ("2025-10-29T04:32:00Z", date(2025, 10, 29)),
    ("2025-10-29T20:00:00Z", date(2025, 10, 30)),  # UTC evening is the next KST day
    ("2025-10-29T14:59:59Z", date(2025, 10, 29)),
    ("2025-10-29T15:00:00Z", date(2025, 10, 30)),
    ("2025-12-31T15:30:00.123Z", date(2026, 1, 1)),
    ("2025-10-29T20:00:00-05:00", date(2025, 10, 30)),
    ("2025-10-29T13:32:00+0900", date(2025, 10, 29)),
    ("20251029", date(2025, 10, 29)),
    ("20251029133200", date(2025, 10, 29)),
    ("2025-10-29", date(2025, 10, 29)),
    (" 2025-10-29 ", date(2025, 10, 29)),
    ("Wed, 29 Oct 2025 20:00:00 GMT", date(2025, 10, 30)),
    ("1761739200", date(2025, 10, 29)),  # 2025-10-29T12:00:00Z
])
def test_parse_timestamp(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize("value", [
    "", "yesterday", "2025-02-30", "20251332", "2025-10-29T25:00:00", "29/10/2025",
])
def test_parse_timestamp_rejects(value):
    assert parse_timestamp(value) is None


def test_import_is_cheap_and_mentions_are_frozen():
    m = one("이날")
    with pytest.raises(AttributeError):
        m.date = None  # type: ignore[misc]
