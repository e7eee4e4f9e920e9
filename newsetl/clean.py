"""Scraped article text to a clean body: page chrome, repeats, captions, bylines and copyright out.

What is taken out is not thrown away: bylines, the publisher named by the page and a
publication date printed in the chrome come back as fields of `Cleaned`. Every rule
matches a whole line (or a dateline prefix), so running prose is never cut.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from newsetl import dates
from newsetl.publishers import Publishers

# Page chrome, compared without whitespace: buttons, menus, list headings around the article.
CHROME_LINES = frozenset("".join(s.split()) for s in (
    "-", "·", "|", "/", "기사 스크랩", "스크랩", "공유", "공유하기", "댓글", "댓글쓰기", "댓글보기", "클린뷰", "프린트",
    "인쇄", "인쇄하기", "글자크기", "글씨크기", "글자 크기 설정", "글자크기 설정", "본문 글씨 키우기", "본문 글씨 줄이기",
    "가", "좋아요", "싫어요", "북마크", "URL 복사", "링크 복사", "주소 복사", "카카오톡", "카카오스토리", "페이스북",
    "트위터", "네이버 블로그", "밴드", "텔레그램", "기사듣기", "본문 듣기", "음성으로 듣기", "번역", "닫기", "구독",
    "구독하기", "기자 구독하기", "기자 구독", "기자페이지", "이 기사를 추천합니다", "추천해요", "많이 본 뉴스",
    "많이 본 기사", "관련기사", "관련 기사", "관련뉴스", "이 시각 주요뉴스", "주요뉴스", "최신뉴스", "실시간 뉴스",
    "가장 많이 본 뉴스", "공감", "추천", "텍스트 음성 변환 서비스 사용하기", "글자 크기 변경하기", "기사제보",
    "제보하기", "뉴스 제보", "목록", "이전기사", "다음기사", "맨위로", "top", "광고", "AD", "Advertisement",
    "ⓒ", "Copyright", "English", "메뉴", "전체메뉴", "검색", "로그인", "회원가입", "오피니언", "포토", "영상",
    "이 기사를 공유합니다", "SNS 기사보내기", "기사보내기", "이메일", "메일", "저장",
))
# Words of share/print toolbars; a short line made only of these is chrome ('공유 | 댓글 | 프린트').
_CHROME_TOKENS = frozenset({
    "공유", "댓글", "프린트", "인쇄", "스크랩", "페이스북", "트위터", "카카오톡", "카카오스토리", "밴드", "URL복사",
    "링크복사", "글자크기", "닫기", "북마크", "좋아요", "구독", "기사듣기", "본문듣기", "클린뷰", "번역", "메일",
    "이메일", "X", "텔레그램", "목록", "가", "-", "+", "가+", "가-",
})
_COUNTER = re.compile(r"^(?:좋아요|싫어요|댓글|공유|추천|공감|스크랩|조회|조회수|화나요|슬퍼요|놀랐어요|응원해요|"
                      r"후속기사원해요|훈훈해요|기사추천|반대)[:\s]*\d[\d,]*$")
_IMAGE = re.compile(r"^!\[.*\]\(\S*\)\s*$|^<img\b[^>]*>$|^(?:https?://|www\.)\S+$", re.I)
_PAGE_DATE = re.compile(
    r"^[\[(]?\s*(?:입력|등록|기사입력|송고|수정|최종수정|업데이트|발행|게재|승인|기사승인|입력일|작성)\s*[:：]?\s*"
    r"\d{4}\s*[.\-/년]|^\d{4}[.\-/]\d{1,2}[.\-/]\d{1,2}\.?\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*"
    r"(?:입력|송고|등록|수정)?\s*$")
# Copyright notices: a rights symbol or phrase, on a short line.
_COPYRIGHT = re.compile(r"무단\s*전재|무단\s*게재|재배포\s*금지|전재\s*및\s*재배포|AI\s*학습|[ⓒ©]|\(c\)|copyright|"
                        r"all\s+rights\s+reserved|저작권자", re.I)
_COPYRIGHT_OWNER = re.compile(r"(?:[ⓒ©]|\(c\)|copyright|저작권자)[\s(（:]*(?:'[^']*'|\"[^\"]*\"|‘[^’]*’)?\s*"
                              r"(?:[ⓒ©]|\(c\))?\s*([가-힣A-Za-z][가-힣A-Za-z0-9]{1,15})", re.I)
_PHOTO = re.compile(
    r"^[\[(<]?\s*(?:사진|그래픽|자료|영상|출처|이미지|일러스트|제공|촬영|자료사진|표)\s*[=:：][^\n]{0,60}[\])>]?$|"
    r"[\[(]\s*(?:사진|그래픽|자료|이미지|영상)\s*[=:：][^\])]{0,40}[\])]\s*$|"
    r"^[\[(]?\s*사진은\s*기사\s*(?:내용|본문)과\s*(?:관계\s*없음|관계없습니다|무관함?|무관합니다)\.?\s*[\])]?$|"
    r"^[\[(]?\s*(?:게티이미지(?:뱅크)?|연합뉴스\s*자료사진|자료사진|AP|AFP|로이터|EPA|신화|연합뉴스|뉴시스|뉴스1)"
    r"\s*(?:제공|자료사진)?\s*[\])]?$")
_CAPTION_TAIL = re.compile(r"(?:\.|\s)\s*(연합뉴스|뉴시스|뉴스1|AP|AFP|로이터|EPA|게티이미지(?:뱅크)?)\s*\|?\s*$")
_ROLE = r"(?:특파원|기자|선임기자|객원기자|인턴기자|수습기자|전문기자|통신원|기자단|논설위원|객원논설위원|칼럼니스트|에디터|PD)"
_EMAIL_PATTERN = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
# '홍길동 기자 hong@x.com', '[한국경제 홍길동 기자]', '글·사진=홍길동 기자', '홍길동·김철수 기자 (hong@x.com)'
_BYLINE = re.compile(
    rf"^[\[(/]?\s*(?:(?:글|사진|글·사진|글\s*사진|정리|취재|영상)\s*=\s*)?(?:([가-힣A-Za-z0-9]{{2,12}})\s+)?"
    rf"([가-힣]{{2,4}}(?:\s*[·,]\s*[가-힣]{{2,4}})*)\s*{_ROLE}\s*[\])]?\s*=?\s*"
    rf"[(<\[]?\s*({_EMAIL_PATTERN})?\s*[)>\]]?\s*$")
_EMAIL_LINE = re.compile(rf"^[(<\[]?\s*({_EMAIL_PATTERN})\s*[)>\]]?$")
_EMAIL = re.compile(rf"({_EMAIL_PATTERN})")
# Wire datelines and bracket bylines at the start of the lead: '(서울=연합뉴스) 홍길동 기자 = ', '[한국경제 홍길동 기자] '
_DATELINE = re.compile(
    rf"^[\[(【]\s*([가-힣A-Za-z ]{{1,12}})\s*=\s*([가-힣A-Za-z0-9]{{2,10}})\s*[\])】]\s*"
    rf"(?:([가-힣]{{2,4}}(?:\s*[·,]\s*[가-힣]{{2,4}})*)\s*{_ROLE}\s*=?\s*)?")
_LEAD_BYLINE = re.compile(rf"^\[\s*(?:([가-힣A-Za-z0-9]{{2,12}})\s+)?([가-힣]{{2,4}})\s*{_ROLE}\s*\]\s*")
_WIRE_SIGNOFF = re.compile(r"^/\s*([가-힣A-Za-z0-9]{2,10})\s*$")
_SENTENCE_END = re.compile(r"[.!?。](?:[\"”'’)\]]*)\s*$")
_PROSE_END = re.compile(r"(?:다|요|죠|까)[.!?](?:[\"”'’)\]]*)\s*$")


@dataclass
class Cleaned:
    body: str
    title: str | None = None
    publisher: str | None = None  # best candidate named by the text
    publisher_source: str | None = None  # copyright | byline | email | signoff | dateline | None
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (source, name) in the order found
    reporters: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    page_date_text: str | None = None
    removed_lines: int = 0


# Which text evidence names the publisher best: a copyright notice is the page's own claim; a
# dateline may be wire copy that another outlet carries.
_PUBLISHER_RANK = ("copyright", "byline", "email", "signoff", "dateline")


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u00a0", " ").replace("\u3000", " ").replace("\ufeff", "").replace("\u200b", "")


def _key(line: str) -> str:
    return "".join(line.split())


def _is_chrome(line: str, key: str) -> bool:
    if key in CHROME_LINES or _COUNTER.match(key) or re.fullmatch(r"(?:가[+\-]?){2,6}", key):
        return True
    if len(line) <= 40:
        tokens = [t for t in re.split(r"[\s|·/•‧,]+", line) if t]
        return bool(tokens) and all(t in _CHROME_TOKENS or t in CHROME_LINES for t in tokens)
    return False


def _is_copyright(line: str) -> bool:
    # A sentence that mentions copying ('…를 무단 전재한 혐의로 기소됐다.') is prose, not a notice.
    return len(line) < 160 and bool(_COPYRIGHT.search(line)) and not _PROSE_END.search(line)


def _is_caption(line: str) -> bool:
    if len(line) < 120 and _PHOTO.search(line):
        return True
    # '배경훈 부총리 및 과기정통부 장관. 연합뉴스' or '...인사하고 있다. 연합뉴스 |'
    return bool(_CAPTION_TAIL.search(line)) and (len(line) < 200 or line.rstrip().endswith("|"))


def is_heading(line: str) -> bool:
    """A title or subhead: short and not a sentence."""
    return len(line) <= 100 and not _SENTENCE_END.search(line)


class _Collector:
    """Accumulates what the removed lines tell about the article."""

    def __init__(self, out: Cleaned, publishers: Publishers) -> None:
        self.out, self.publishers = out, publishers

    def publisher(self, source: str, name: str | None) -> None:
        if name:
            self.out.candidates.append((source, self.publishers.canonical(name) or name))

    def email(self, address: str) -> None:
        self.out.emails.append(address)
        self.publisher("email", self.publishers.from_domain(address.rsplit("@", 1)[1]))

    def byline(self, match: re.Match[str]) -> None:
        outlet, names, address = match.group(1), match.group(2), match.group(3)
        self.out.reporters.extend(n for n in re.split(r"\s*[·,]\s*", names) if n)
        if outlet:
            self.publisher("byline", self.publishers.known(outlet) or outlet)
        if address:
            self.email(address)

    def copyright(self, line: str) -> None:
        name = self.publishers.in_text(line)
        if not name and (owner := _COPYRIGHT_OWNER.search(line)) and owner.group(1).lower() not in (
                "c", "copyright", "all", "by", "무단전재", "무단"):
            name = owner.group(1)
        self.publisher("copyright", name)


def _strip_lead(line: str, collect: _Collector) -> str:
    """Take a wire dateline or a bracket byline off the front of a paragraph."""
    if (m := _DATELINE.match(line)) and m.end() < len(line):
        collect.publisher("dateline", m.group(2))
        if m.group(3):
            collect.out.reporters.extend(re.split(r"\s*[·,]\s*", m.group(3)))
        return line[m.end():].strip()
    if (m := _LEAD_BYLINE.match(line)) and m.end() < len(line):
        if m.group(1):
            collect.publisher("byline", collect.publishers.known(m.group(1)) or m.group(1))
        collect.out.reporters.append(m.group(2))
        return line[m.end():].strip()
    return line


def _classify(line: str, key: str, collect: _Collector) -> bool:
    """True when the line is page furniture (and records what it tells); False for article text."""
    out = collect.out
    if len(line) > 200 and not line.endswith("|") and not line.startswith("!["):
        return False  # a paragraph: every furniture rule below needs a short line
    if _IMAGE.match(line) or _is_chrome(line, key):
        return True
    if _PAGE_DATE.match(line):
        out.page_date_text = out.page_date_text or line
        return True
    if _is_copyright(line):
        collect.copyright(line)
        return True
    if m := _WIRE_SIGNOFF.match(line):
        collect.publisher("signoff", m.group(1))
        return True
    if len(line) <= 80 and (m := _BYLINE.match(line)):
        collect.byline(m)
        return True
    if m := _EMAIL_LINE.match(line):
        collect.email(m.group(1))
        return True
    return _is_caption(line)


def clean(text: str, *, title_hint: str | None = None, publishers: Publishers | None = None) -> Cleaned:
    """Clean one article body; `title_hint` is a title the source gave, removed from the body if repeated."""
    out = Cleaned(body="")
    collect = _Collector(out, publishers or Publishers())
    seen: set[str] = set()
    kept: list[str] = []
    for raw in normalize_text(text).split("\n"):
        line = " ".join(raw.split())
        if not line:
            continue
        key = _key(line)
        if _classify(line, key, collect):
            out.removed_lines += 1
            continue
        line = _strip_lead(line, collect)
        key = _key(line)
        # Scrapers repeat paragraphs and whole blocks; a re-read cut off mid-sentence is a prefix of a
        # line kept (a whole sentence that opens another paragraph is text, not a repeat).
        if key in seen or (len(key) >= 30 and not _SENTENCE_END.search(line)
                           and any(k.startswith(key) for k in seen)):
            out.removed_lines += 1
            continue
        seen.add(key)
        kept.append(line)
    if title_hint and title_hint.strip():
        hint = _key(title_hint)
        kept = [ln for ln in kept if _key(ln) != hint]
        out.title = " ".join(title_hint.split())
    elif len(kept) > 1 and is_heading(kept[0]) and len(kept[0]) >= 4:
        out.title = kept.pop(0)
    out.body = "\n".join(kept)
    for rank in _PUBLISHER_RANK:
        name = next((n for source, n in out.candidates if source == rank), None)
        if name:
            out.publisher, out.publisher_source = name, rank
            break
    return out


CLEANED_SCHEMA = {
    "article_id": pl.String, "source_path": pl.String, "title": pl.String, "body": pl.String,
    "analysed_text": pl.String, "text_sha": pl.String, "body_sha": pl.String, "publisher": pl.String,
    "publisher_source": pl.String, "published_date": pl.Date, "published_date_source": pl.String,
    "reporters": pl.List(pl.String), "emails": pl.List(pl.String), "removed_lines": pl.Int32,
    "subheads_sha": pl.String,
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def body_key(body: str) -> str:
    """What two copies of one story share whatever page they came from: its sentence lines, spacing aside.

    Headings (the title line and subheads) are left out because pages differ in showing them.
    """
    lines = [_key(ln) for ln in body.split("\n") if ln.strip() and not is_heading(ln)]
    return "\n".join(lines or [_key(body)])


def subheads(body: str) -> str:
    """The body's subheads after its lead: copies of one page share them, a re-post draws its own.

    Headings above the lead are left out: whether the first of them is the title depends on the page.
    """
    lines = body.split("\n")
    lead = next((i for i, ln in enumerate(lines) if not is_heading(ln)), len(lines))
    return "\n".join(ln for ln in lines[lead + 1:] if is_heading(ln))


def _metadata_date(meta: dict) -> date | None:
    for key in ("published_at", "date", "published_date", "pubdate"):
        value = meta.get(key)
        if value:
            # a feed's timestamp, or a date as people write it ('2025년 10월 29일', '2025. 10. 29.')
            parsed = dates.parse_timestamp(str(value)) or dates.parse_publication_date(str(value))
            if parsed:
                return parsed
    return None


_PATH_DATE = re.compile(r"(?<![0-9])((?:19|20)\d{2})[-_./]?(0[1-9]|1[0-2])[-_./]?(0[1-9]|[12]\d|3[01])")
# In a file name the date must be a token of its own: 'yna_20251029_01', not hex like 'ba6fee19980822a2'.
_NAME_DATE = re.compile(r"(?<![0-9A-Za-z])((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?![0-9A-Za-z])")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])(?:/|$)")


def inferred_date(url: str | None, path: str | None) -> date | None:
    """A publication date read off the article's URL or file name ('AKR20251029…', 'yna_20251029_01.txt').

    Only the URL and the file's own name count: folders and image links carry other days.
    """
    for text, patterns in ((url, (_URL_DATE, _PATH_DATE)), (path.rsplit("/", 1)[-1] if path else None, (_NAME_DATE,))):
        if not text:
            continue
        for pattern in patterns:
            for match in pattern.finditer(text):
                try:
                    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                except ValueError:
                    continue
    return None


def publication_date(meta: dict, page_date_text: str | None, source_path: str | None,
                     plausible: tuple[date, date] | None = None) -> tuple[date | None, str | None]:
    """(date, source): from metadata, else a date the page prints, else one its URL or file name implies.

    An implied date outside `plausible` (first, last day) is no date; a stated one is returned as it
    is, because ingest quarantines what states an implausible date.
    """
    published = _metadata_date(meta)
    if published:
        return published, "metadata"
    for text in (page_date_text, meta.get("published_at_text")):
        if text and (published := dates.parse_publication_date(str(text))):
            return published, "text"
    url = meta.get("url")
    published = inferred_date(str(url) if url else None, source_path)
    if published and (plausible is None or plausible[0] <= published <= plausible[1]):
        return published, "inferred"
    return None, None


def clean_article(row: dict, publishers: Publishers | None = None, plausible: tuple[date, date] | None = None) -> dict:
    """A staging article row to its cleaned row (CLEANED_SCHEMA); `plausible` bounds implied dates."""
    publishers = publishers or Publishers()
    meta = json.loads(row["metadata"]) if row.get("metadata") else {}
    title = row.get("title") or meta.get("title")
    result = clean(row["body"] or "", title_hint=str(title) if title else None, publishers=publishers)
    named = meta.get("source") or meta.get("publisher")
    if named and str(named).strip():
        publisher, publisher_source = publishers.canonical(str(named)), "metadata"
    elif url_publisher := publishers.from_url(str(meta.get("url") or "")):
        publisher, publisher_source = url_publisher, "url"
    elif result.publisher:
        publisher, publisher_source = result.publisher, result.publisher_source
    elif path_publisher := publishers.from_path(row.get("source_path")):
        publisher, publisher_source = path_publisher, "inferred"
    else:
        publisher, publisher_source = None, None
    published, source = publication_date(meta, result.page_date_text, row.get("source_path"), plausible)
    analysed = "\n".join(p for p in (result.title, result.body) if p)
    return {
        "article_id": row["article_id"], "source_path": row["source_path"], "title": result.title,
        "body": result.body, "analysed_text": analysed, "text_sha": _sha(analysed),
        "body_sha": _sha(body_key(result.body)), "publisher": publisher, "publisher_source": publisher_source,
        "published_date": published, "published_date_source": source,
        "reporters": list(dict.fromkeys(result.reporters)), "emails": list(dict.fromkeys(result.emails)),
        "removed_lines": result.removed_lines,
        "subheads_sha": _sha(subheads(result.body)),
    }
