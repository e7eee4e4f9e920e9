"""Scraped article text to a clean body: page chrome, repeats, captions, bylines and copyright out.

What is taken out is not thrown away: bylines, the publisher named by the page and a
publication date printed in the chrome come back as fields of `Cleaned`.
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

CHROME_LINES = frozenset({
    "-", "·", "|", "기사 스크랩", "스크랩", "공유", "공유하기", "댓글", "댓글쓰기", "클린뷰", "프린트", "인쇄",
    "글자크기", "글씨크기", "본문 글씨 키우기", "본문 글씨 줄이기", "가", "좋아요", "싫어요", "북마크",
    "URL 복사", "URL복사", "카카오톡", "페이스북", "트위터", "기사듣기", "번역", "닫기", "구독", "구독하기",
    "많이 본 뉴스", "관련기사", "관련 기사", "이 시각 주요뉴스", "주요뉴스", "최신뉴스", "실시간 뉴스",
    "가장 많이 본 뉴스", "공감", "추천", "텍스트 음성 변환 서비스 사용하기", "글자 크기 변경하기",
})
_IMAGE_MD = re.compile(r"^!\[.*\]\(\S*\)\s*$")
_PAGE_DATE = re.compile(r"^(?:입력|등록|기사입력|수정|최종수정|업데이트|발행)\s*[:：]?\s*\d{4}[.\-/년]")
_COPYRIGHT = re.compile(r"무단\s*전재|재배포\s*금지|[ⓒ©]|copyright|all rights reserved|저작권자", re.I)
_COPYRIGHT_OWNER = re.compile(r"(?:[ⓒ©]|저작권자)\s*[\(（]?\s*(?:'[^']*'|\"[^\"]*\"|‘[^’]*’)?\s*([가-힣A-Za-z0-9]+)")
_PHOTO = re.compile(
    r"^[\[(]?\s*(?:사진|그래픽|자료|영상|출처|이미지)\s*[=:：][^\n]{0,60}[\])]?$|"
    r"[\[(]\s*(?:사진|그래픽|자료)\s*[=:：][^\])]{0,40}[\])]\s*$"
)
_CAPTION_TAIL = re.compile(r"(?:\.|\s)\s*(연합뉴스|뉴시스|뉴스1|AP|AFP|로이터|EPA|게티이미지(?:뱅크)?)\s*\|?\s*$")
_BYLINE = re.compile(
    r"^[\[(]?\s*(?:([가-힣A-Za-z]{2,10})\s*)?([가-힣]{2,4})\s*(?:특파원|기자|선임기자|객원기자|인턴기자|통신원)"
    r"\s*[\])]?\s*(?:[=]\s*)?([\w.+-]+@[\w-]+(?:\.[\w-]+)+)?\s*$"
)
_EMAIL = re.compile(r"([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)")
_DATELINE = re.compile(
    r"^[\[(]\s*([가-힣A-Za-z ]{1,12})\s*=\s*([가-힣A-Za-z0-9]{2,10})\s*[\])]\s*"
    r"(?:([가-힣]{2,4})\s*(?:특파원|기자)\s*=?\s*)?"
)
_WIRE_SIGNOFF = re.compile(r"^/\s*([가-힣A-Za-z0-9]{2,10})\s*$")
_SENTENCE_END = re.compile(r"(?:다|[.!?。])\s*[\"”'’)]*\s*$")


@dataclass
class Cleaned:
    body: str
    title: str | None = None
    publisher: str | None = None
    publisher_source: str | None = None  # copyright | signoff | dateline | email | None
    reporters: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    page_date_text: str | None = None
    removed_lines: int = 0


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u00a0", " ").replace("\u3000", " ").replace("\ufeff", "")


def _key(line: str) -> str:
    return re.sub(r"\s+", "", line)


def _is_caption(line: str) -> bool:
    if _PHOTO.search(line):
        return True
    # '배경훈 부총리 및 과기정통부 장관. 연합뉴스' or '...인사하고 있다. 연합뉴스 |'
    return bool(_CAPTION_TAIL.search(line)) and (len(line) < 200 or line.rstrip().endswith("|"))


def clean(text: str, *, title_hint: str | None = None) -> Cleaned:
    """Clean one article body; `title_hint` is a title the source gave, removed from the body if repeated."""
    out = Cleaned(body="")
    seen: set[str] = set()
    kept: list[str] = []
    lines = [ln.strip() for ln in normalize_text(text).split("\n")]
    for line in lines:
        if not line:
            continue
        removed = True
        if line in CHROME_LINES or _IMAGE_MD.match(line):
            pass
        elif _PAGE_DATE.match(line):
            out.page_date_text = out.page_date_text or line
        elif _COPYRIGHT.search(line) and len(line) < 160:
            owner = _COPYRIGHT_OWNER.search(line)
            if owner and not out.publisher:
                out.publisher, out.publisher_source = owner.group(1), "copyright"
        elif (m := _WIRE_SIGNOFF.match(line)):
            if not out.publisher:
                out.publisher, out.publisher_source = m.group(1), "signoff"
        elif (m := _BYLINE.match(line)):
            out.reporters.append(m.group(2))
            if m.group(3):
                out.emails.append(m.group(3))
        elif _is_caption(line):
            pass
        else:
            removed = False
        if removed:
            out.removed_lines += 1
            continue
        if (m := _DATELINE.match(line)) and m.end() < len(line):
            if not out.publisher:
                out.publisher, out.publisher_source = m.group(2), "dateline"
            if m.group(3):
                out.reporters.append(m.group(3))
            line = line[m.end():].strip()
        key = _key(line)
        # Scrapers repeat paragraphs and whole blocks; a truncated re-read is a prefix of a line kept.
        if key in seen or (len(key) >= 30 and any(k.startswith(key) for k in seen)):
            out.removed_lines += 1
            continue
        seen.add(key)
        kept.append(line)
    for line in list(kept):
        for email in _EMAIL.findall(line):
            out.emails.append("@".join(email))
    if title_hint:
        hint = _key(title_hint)
        kept = [ln for ln in kept if _key(ln) != hint]
        out.title = title_hint.strip()
    elif len(kept) > 2 and len(kept[0]) <= 80 and not _SENTENCE_END.search(kept[0]):
        out.title = kept.pop(0)
    out.body = "\n".join(kept)
    return out


CLEANED_SCHEMA = {
    "article_id": pl.String, "source_path": pl.String, "title": pl.String, "body": pl.String,
    "analysed_text": pl.String, "text_sha": pl.String, "body_sha": pl.String, "publisher": pl.String,
    "publisher_source": pl.String, "published_date": pl.Date, "published_date_source": pl.String,
    "reporters": pl.List(pl.String), "emails": pl.List(pl.String), "removed_lines": pl.Int32,
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _metadata_date(meta: dict) -> date | None:
    for key in ("published_at", "date", "published_date", "pubdate"):
        value = meta.get(key)
        if value:
            parsed = dates.parse_timestamp(str(value))
            if parsed:
                return parsed
    return None


def clean_article(row: dict) -> dict:
    """A staging article row to its cleaned row (CLEANED_SCHEMA)."""
    meta = json.loads(row["metadata"]) if row.get("metadata") else {}
    result = clean(row["body"] or "", title_hint=row.get("title") or meta.get("title"))
    published, source = _metadata_date(meta), "metadata"
    if published is None and result.page_date_text:
        published, source = dates.parse_publication_date(result.page_date_text), "text"
    if published is None and meta.get("published_at_text"):
        published, source = dates.parse_publication_date(str(meta["published_at_text"])), "text"
    publisher = meta.get("source") or meta.get("publisher") or result.publisher
    analysed = "\n".join(p for p in (result.title, result.body) if p)
    return {
        "article_id": row["article_id"], "source_path": row["source_path"], "title": result.title,
        "body": result.body, "analysed_text": analysed, "text_sha": _sha(analysed), "body_sha": _sha(result.body),
        "publisher": publisher,
        "publisher_source": "metadata" if meta.get("source") or meta.get("publisher") else result.publisher_source,
        "published_date": published, "published_date_source": source if published else None,
        "reporters": result.reporters, "emails": result.emails, "removed_lines": result.removed_lines,
    }
