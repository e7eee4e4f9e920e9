"""Korean date expressions in news sentences, resolved against the article's publication date,
and parsers for publication dates written in page text or metadata timestamps."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

KST = timezone(timedelta(hours=9))


@dataclass(frozen=True)
class DateMention:
    start: int  # char offsets in the sentence, end exclusive
    end: int
    text: str  # the matched expression, e.g. '지난해 8월', '26일(현지시간)'
    date: date | None  # first day of the period; None when it cannot be resolved
    precision: str  # 'day' | 'month' | 'year' | 'none'
    relative: bool  # True when resolution needed the publication date (or an anchor)
    future: bool  # the words themselves point forward (오는, 다음 달, 내년, 내일)


# --- the expression grammar -------------------------------------------------------------
# Each alternative is written with {Y}/{M}/{D} placeholders and gets its own group names
# (kind_y, kind_m ...) because Python forbids repeated names inside one alternation.
# One combined regex keeps the scan to one search per mention, and alternative order
# decides which reading wins at a position (longest, most specific first).

# A day number: '29일', '5~10일' (start of a range). Durations are not dates: '5일간',
# '3일째', '10일 동안', '30일 만에', '3일 전에', '3일 후'; '29일 전 세계' stays a date.
_NOT_DURATION = (
    r"(?!간|째|치|씩|가량|\s*(?:동안|만에|만(?![가-힣])|이내|이상|미만|연속|넘게|정도"
    r"|전(?:에|부터|까지|쯤|께|만|[.,]|$)|후(?![가-힣])|뒤(?![가-힣])|내(?![가-힣])))"
)
_DAY = r"(?P<{k}_d>\d{1,2})(?:\s*[~∼〜]\s*\d{1,2})?일" + _NOT_DURATION
_MONTH = r"(?P<{k}_m>\d{1,2})월"
_YEAR = r"(?P<{k}_y>\d{4})"
# '초/말/중순' after a month or year keep its precision but belong to the text; the lookahead
# keeps '말레이시아', '중국', '초청' out.
_SUFFIX = (
    r"(?:\s?(?:중순|초순|상순|하순|초|말|중)"
    r"(?=에|께|까지|부터|쯤|경|의|엔|이|을|으로|[^가-힣]|$))?"
)
_WORD_START = r"(?<![가-힣])"

_RULES: tuple[tuple[str, str], ...] = (
    ("ymd", r"(?<!\d){Y}년\s*{M}\s*{D}"),
    ("dotted", r"(?<![0-9A-Za-z./\-]){Y}(?P<{k}_sep>[.\-/])\s?(?P<{k}_m>\d{1,2})(?P={k}_sep)\s?"
               r"(?P<{k}_d>\d{1,2})(?![\d])"),
    ("ym", r"(?<!\d){Y}년\s*{M}" + _SUFFIX),
    ("year", r"(?<!\d){Y}년(?!대|간)" + _SUFFIX),
    # '올' alone means this year only before a month or 초/말 ('올 3월', '올 초', not '올 시즌')
    ("yref", _WORD_START + r"(?P<{k}_w>재작년|지난\s?해|작년|올해|금년|내후년|내년"
             r"|올(?=\s\d{1,2}월|\s(?:초|말)(?![가-힣])))(?:\s*{M}(?:\s*{D})?)?" + _SUFFIX),
    ("same_year", r"같은\s?해(?:\s*{M}(?:\s*{D})?)?" + _SUFFIX),
    ("mref", _WORD_START + r"(?P<{k}_w>지난\s?달|이달|이번\s?달|다음\s?달|내달(?![리려렸린릴림]))"
             r"(?:\s*{D}|" + _SUFFIX + ")"),
    ("same_month", r"같은\s?달(?:\s*{D}|" + _SUFFIX + ")"),
    ("same_day", r"같은\s?날"),
    ("past_md", _WORD_START + r"지난\s*{M}(?:\s*{D})?" + _SUFFIX),
    ("past_d", _WORD_START + r"지난\s*{D}"),
    # no word-start guard: '다가오는 12일' is as forward as '오는 12일'
    ("next_md", r"오는\s*{M}(?:\s*{D})?" + _SUFFIX),
    ("next_d", r"오는\s*{D}"),
    # '이 날' only as a word of its own: not '이 날씨', '이 날개'
    ("dayword", _WORD_START + r"(?P<{k}_w>이날(?!짜)|이\s날(?=[은는의에도]|부터|까지|[^가-힣]|$)"
                r"|오늘(?!날)|전날|어제(?!오늘)|내일)"),
    ("md", r"(?<![\d.]){M}\s*{D}"),
    ("m", r"(?<![\d.]){M}(?!물|회)" + _SUFFIX),
    ("d", r"(?<![\d.]){D}"),
)


def _compile_rules() -> re.Pattern[str]:
    parts = []
    for kind, template in _RULES:
        # plain replace, not str.format: the regexes are full of {1,2} quantifiers
        body = template.replace("{Y}", _YEAR).replace("{M}", _MONTH).replace("{D}", _DAY)
        parts.append(f"(?P<{kind}>{body.replace('{k}', kind)})")
    # every expression starts with a digit or one of these syllables; checking that first
    # lets the engine skip most positions without trying seventeen alternatives
    return re.compile(r"(?=[\d재지작올금내같이오전어다])(?:" + "|".join(parts) + ")")


_PATTERN = _compile_rules()
_GROUPS = {kind: [n[len(kind) + 1:] for n in _PATTERN.groupindex
                  if n.startswith(kind + "_") and n[len(kind) + 1:] in ("y", "m", "d", "w")]
           for kind, _ in _RULES}
# Text that belongs to a mention without changing its date: a time zone note, and the end
# of a range ('5일부터 10일까지' is one mention dated by its start).
_TIMEZONE_NOTE = re.compile(r"\([^()\n]{0,12}시[간각]\)")
_RANGE_END = re.compile(
    r"부터\s*(?:\d{4}년(?:\s*\d{1,2}월)?(?:\s*\d{1,2}일)?|\d{1,2}월(?:\s*\d{1,2}일)?|\d{1,2}일)"
    r"(?:\([^()\n]{0,12}시[간각]\))?\s*까지"
)

_YEAR_WORDS = {"재작년": -2, "지난해": -1, "작년": -1, "올해": 0, "금년": 0, "올": 0, "내년": 1, "내후년": 2}
_MONTH_WORDS = {"지난달": -1, "이달": 0, "이번달": 0, "다음달": 1, "내달": 1}
_DAY_WORDS = {"이날": 0, "오늘": 0, "전날": -1, "어제": -1, "내일": 1}
_ABSOLUTE = frozenset({"ymd", "dotted", "ym", "year"})
_FORWARD_WORDS = frozenset({"내년", "내후년", "다음달", "내달", "내일"})

Resolution = tuple[date | None, str]
_NONE: Resolution = (None, "none")


# --- calendar arithmetic -----------------------------------------------------------------

def _valid(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    t = y * 12 + m - 1 + k
    return t // 12, t % 12 + 1


def _walk_months(p: date, d: int, step: int, ok: Callable[[date], bool]) -> Resolution:
    """Day d in P's month or the months before/after it, first that exists and satisfies ok."""
    for k in range(4):  # a day 29-31 exists in at least one of any 3 consecutive months
        c = _valid(*_add_months(p.year, p.month, step * k), d)
        if c and ok(c):
            return c, "day"
    return _NONE


def _walk_years(p: date, m: int, d: int, step: int, ok: Callable[[date], bool]) -> Resolution:
    for k in range(9):  # 2월 29일 may need up to 8 years (1896 -> 1904)
        c = _valid(p.year + step * k, m, d)
        if c and ok(c):
            return c, "day"
    return _NONE


def _in_year(y: int, m: int | None, d: int | None) -> Resolution:
    if m is None:
        return date(y, 1, 1), "year"
    if d is None:
        return date(y, m, 1), "month"
    c = _valid(y, m, d)
    return (c, "day") if c else _NONE


def _nearest_day(p: date, m: int, d: int) -> Resolution:
    """'10월 30일': the year (P.year-1..P.year+1) that puts it nearest to P; ties go to the past."""
    cands = [c for y in (p.year - 1, p.year, p.year + 1) if (c := _valid(y, m, d))]
    if not cands:
        return _NONE
    return min(cands, key=lambda c: abs((c - p).days)), "day"


def _nearest_month(p: date, m: int) -> Resolution:
    here = p.year * 12 + p.month
    y = min((p.year - 1, p.year, p.year + 1), key=lambda y: abs(y * 12 + m - here))
    return date(y, m, 1), "month"


# --- one resolver per kind: (numbers, P, anchor, planned) -> (date, precision) ----------

@dataclass(frozen=True)
class Fields:
    """The numbers and the keyword of one match."""

    y: int | None = None
    m: int | None = None
    d: int | None = None
    w: str | None = None  # the relative word, spaces removed: '지난해', '다음달'


def _ymd(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    c = _valid(g.y, g.m, g.d)
    return (c, "day") if c and c.year >= 1000 else None


def _ym(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    return (date(g.y, g.m, 1), "month") if g.y >= 1000 else None


def _year(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    # small numbers before 년 are durations ('1년 유예'); only a calendar year is a date
    return (date(g.y, 1, 1), "year") if 1900 <= g.y < 2200 else None


def _yref(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    if p is None:
        return _NONE
    return _in_year(p.year + _YEAR_WORDS[g.w], g.m, g.d)


def _same_year(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    base = a.date if a is not None and a.date is not None else p
    return _in_year(base.year, g.m, g.d) if base else _NONE


def _mref(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    if p is None:
        return _NONE
    y, m = _add_months(p.year, p.month, _MONTH_WORDS[g.w])
    return _in_year(y, m, g.d)


def _same_month(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    usable = a is not None and a.date is not None and a.precision in ("day", "month")
    base = a.date if usable else p
    return _in_year(base.year, base.month, g.d) if base else _NONE


def _same_day(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    base = a.date if a is not None and a.date is not None and a.precision == "day" else p
    return (base, "day") if base else _NONE


def _past_md(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    if p is None:
        return _NONE
    if g.d is None:
        return date(p.year if g.m < p.month else p.year - 1, g.m, 1), "month"
    return _walk_years(p, g.m, g.d, -1, lambda c: c <= p)


def _next_md(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    if p is None:
        return _NONE
    if g.d is None:
        return date(p.year if g.m > p.month else p.year + 1, g.m, 1), "month"
    return _walk_years(p, g.m, g.d, 1, lambda c: c > p)


def _past_d(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    # P's month if the day has come, else the month before: the most recent such day
    return _walk_months(p, g.d, -1, lambda c: c <= p) if p else _NONE


def _next_d(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    return _walk_months(p, g.d, 1, lambda c: c > p) if p else _NONE


def _dayword(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    return (p + timedelta(days=_DAY_WORDS[g.w]), "day") if p else _NONE


def _md(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    return _nearest_day(p, g.m, g.d) if p else _NONE


def _m(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    if p is None:
        return _NONE
    if planned:
        return date(p.year if g.m >= p.month else p.year + 1, g.m, 1), "month"
    return _nearest_month(p, g.m)


def _d(g: Fields, p: date | None, a: DateMention | None, planned: bool) -> Resolution | None:
    if p is None:
        return _NONE
    if planned:  # '31일 공개할 예정' written on the 29th is this month's 31st
        return _walk_months(p, g.d, 1, lambda c: c >= p)
    return _past_d(g, p, a, planned)


_RESOLVERS = {
    "ymd": _ymd, "dotted": _ymd, "ym": _ym, "year": _year, "yref": _yref, "same_year": _same_year,
    "mref": _mref, "same_month": _same_month, "same_day": _same_day, "past_md": _past_md,
    "past_d": _past_d, "next_md": _next_md, "next_d": _next_d, "dayword": _dayword,
    "md": _md, "m": _m, "d": _d,
}


# --- scanning ---------------------------------------------------------------------------

def _fields(match: re.Match[str], kind: str) -> Fields | None:
    """The match's numbers as ints (words with spaces removed); None when a number is no date."""
    values: dict[str, int | str] = {}
    for name in _GROUPS[kind]:
        value = match.group(f"{kind}_{name}")
        if value is not None:
            values[name] = "".join(value.split()) if name == "w" else int(value)
    g = Fields(**values)
    if g.m is not None and not 1 <= g.m <= 12 or g.d is not None and not 1 <= g.d <= 31:
        return None
    return g


def _extend(sentence: str, end: int) -> int:
    """End of the mention once a '(현지시간)' note and a '부터 ... 까지' range end are included."""
    if note := _TIMEZONE_NOTE.match(sentence, end):
        end = note.end()
    if rng := _RANGE_END.match(sentence, end):
        end = rng.end()
    return end


def find_dates(sentence: str, published: date | None, anchor: DateMention | None = None,
               *, planned: bool = False) -> list[DateMention]:
    """All date expressions in the sentence, in order, resolved.

    `anchor` is the previous date mention of the article ('같은 달' refers to it); mentions
    found here become the anchor of later ones in the same sentence. `planned=True` (the
    caller saw '예정' and the like) reads bare '31일' / '8월' forward instead of backward.
    """
    found: list[DateMention] = []
    pos = 0
    while match := _PATTERN.search(sentence, pos):
        kind = match.lastgroup
        pos = match.end()
        g = _fields(match, kind)
        resolution = _RESOLVERS[kind](g, published, anchor, planned) if g is not None else None
        if resolution is None:  # an impossible date ('2025년 2월 30일') is skipped whole
            continue
        pos = _extend(sentence, match.end())
        mention = DateMention(
            start=match.start(), end=pos, text=sentence[match.start():pos],
            date=resolution[0], precision=resolution[1], relative=kind not in _ABSOLUTE,
            future=kind in ("next_md", "next_d") or g.w in _FORWARD_WORDS,
        )
        found.append(mention)
        if mention.date is not None:
            anchor = mention
    return found


# --- publication dates and timestamps -----------------------------------------------------

_DATE_TOKEN = (
    r"(?<![\d/])(?P<y>\d{4})\s*(?:(?P<sep>[.\-/])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})"
    r"|년\s*(?P<m2>\d{1,2})\s*월\s*(?P<d2>\d{1,2})\s*일)(?!\d)"
)
_TIME = r"(?:\s*\(?[월화수목금토일]?\)?)?\s*(?:(?:오전|오후|AM|PM)\s*)?\d{1,2}:\d{2}(?::\d{2})?"
_LABEL = (
    r"(?:(?:기사\s*)?(?:최초\s*)?(?P<label>입력|등록|게재|송고|발행|작성|승인|수정|업데이트)(?:일시|일자|시간|일)?"
    r"|(?<![A-Za-z])(?P<elabel>date|published(?:_at|_time|_date)?|pubdate|posted|updated|modified))"
)
_LABELED = re.compile(_LABEL + r"\s*[:：]?\s*[\[(]?\s*" + _DATE_TOKEN, re.IGNORECASE)
# a portal's stamp may close the date with a full stop: '2025.10.29. 오후 2:03', '2025. 10. 29.'
_LABEL_AFTER = re.compile(_DATE_TOKEN + r"\.?" + f"(?:{_TIME})?" + r"\s*(?P<label>입력|송고|등록|게재)")
_ALONE = re.compile(r"^[\s\[(]*" + _DATE_TOKEN + r"\.?" + f"(?:{_TIME})?" + r"[\s\])]*$", re.MULTILINE)
_STAMPED = re.compile(_DATE_TOKEN + r"\.?" + _TIME)
_URL = re.compile(r"(?:https?://|www\.)\S+|\]\(\S+\)")
_EDIT_LABELS = frozenset({"수정", "업데이트", "updated", "modified"})


def _token_date(match: re.Match[str]) -> date | None:
    m, d = match.group("m") or match.group("m2"), match.group("d") or match.group("d2")
    return _valid(int(match.group("y")), int(m), int(d))


def parse_publication_date(text: str) -> date | None:
    """A publication date written in page text, first plausible one.

    Forms: '입력 2025.10.29 14:03', '2025-10-29', '2025년 10월 29일', 'date 2025-10-29',
    '기사입력 2025/10/29', '2025.10.29 14:03 송고'.
    Preference: a labelled creation date ('입력', 'date'), then an edit date ('수정'), then a
    date standing alone on its line, then a date followed by a clock time. Dates inside URLs
    (image links carry other days) and in running prose are never taken. Any valid calendar
    date counts: range checks (2099, 1890) are the caller's, which quarantines them.
    """
    text = _URL.sub(lambda u: " " * len(u.group()), text)
    edited = None
    for match in _LABELED.finditer(text):
        found = _token_date(match)
        label = (match.group("label") or match.group("elabel") or "").lower()
        if found and label not in _EDIT_LABELS:
            return found
        edited = edited or found
    if edited:
        return edited
    for pattern in (_LABEL_AFTER, _ALONE, _STAMPED):
        for match in pattern.finditer(text):
            if found := _token_date(match):
                return found
    return None


_ISO = re.compile(
    r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})"
    r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|UTC|GMT|KST|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


def _zone(label: str | None) -> timezone:
    if label is None or label.upper() == "KST":
        return KST  # a Korean source's naive timestamp is Korean time
    if label.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if label[0] == "-" else 1
    digits = label[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _in_kst(moment: datetime) -> date:
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(KST).date()


def parse_timestamp(value: str) -> date | None:
    """A metadata timestamp to its Korean calendar date (KST).

    Forms: '2025-10-29T13:32:00+09:00', '2025-10-29 13:32:00' (naive: taken as KST),
    '2025.10.29 13:32', '2025-10-29T04:32:00Z' (UTC + 9h, so 2025-10-29T20:00:00Z is
    2025-10-30), '20251029' (BigKinds), '2025-10-29'.
    Also '20251029133200' (compact, KST), RFC 2822 ('Wed, 29 Oct 2025 04:32:00 GMT', RSS)
    and epoch seconds or milliseconds. Anything else, or an impossible date, gives None.
    """
    value = value.strip()
    if re.fullmatch(r"\d{8}(?:\d{6})?", value):
        return _valid(int(value[:4]), int(value[4:6]), int(value[6:8]))
    if re.fullmatch(r"\d{10}|\d{13}", value):
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        return datetime.fromtimestamp(seconds, KST).date()
    if match := _ISO.fullmatch(value):
        return _iso_date(match)
    try:
        return _in_kst(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None


def _iso_date(match: re.Match[str]) -> date | None:
    y, mo, d, hh, mm, ss, zone = match.groups()
    day = _valid(int(y), int(mo), int(d))
    if day is None or hh is None:
        return day
    try:
        moment = datetime(day.year, day.month, day.day, int(hh), int(mm), int(ss or 0), tzinfo=_zone(zone))
    except ValueError:
        return None
    return _in_kst(moment)
