"""One raw file -> article Records or Rejections: the parsing half of ingest.

Every format maps its fields onto the same names (id, url, source, published_at, title, author,
body), keeps the source's own fields as given in `metadata`, and hands back the exact bytes each
record came from. Bad content never raises: it becomes a Rejected with a reason and a one-line detail.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from newsetl.dates import parse_timestamp
from newsetl.decode import DecodeError, decode_bytes, normalize_text, sniff_utf16
from newsetl.htmltext import extract_page, html_fragment_to_text, sniff_charset

__all__ = ["REASONS", "SUPPORTED", "Record", "Rejected", "read_file"]

SUPPORTED = (".txt", ".json", ".jsonl", ".html", ".htm", ".csv", ".xlsx")
REASONS = (
    "empty",
    "binary",
    "undecodable",
    "unparsable",
    "unsupported_format",
    "too_large",
    "boilerplate_only",
)


@dataclass
class Record:
    source_record: int | None  # index inside a multi-article file; None for single-article files
    raw_text: str  # the record as received, decoded
    body: str  # article text from the format (front matter, date line, markup removed); not cleaned
    title: str | None
    metadata: dict  # the source's fields as given, plus normalized id/url/source/published_at/title/author
    format: str  # 'txt' | 'json' | 'jsonl' | 'html' | 'csv' | 'xlsx'
    encoding: str
    content: bytes  # the exact bytes this record came from (see read_file for container formats)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Rejected:
    source_record: int | None
    reason: str  # one of REASONS
    detail: str  # one line: what is wrong and where
    content: bytes  # b"" when the file was too large to hold; then content_sha256 is the file's hash
    content_sha256: str | None = None

    def __post_init__(self) -> None:
        # One line, whatever the source put in a header or a message.
        detail = " ".join(self.detail.split())
        self.detail = detail if len(detail) <= 300 else detail[:299] + "…"

    @property
    def sha256(self) -> str:
        return self.content_sha256 or hashlib.sha256(self.content).hexdigest()


# ------------------------------------------------------------------ field names
# Normalized key -> the names sources use for it (compared lowercased, without spaces/_/-).
_SYNONYMS = {
    "id": ("id", "뉴스식별자", "articleid", "newsid", "docid", "guid", "uid", "식별자"),
    "url": ("url", "link", "canonicalurl", "articleurl", "href", "링크"),
    "source": (
        "source",
        "publisher",
        "press",
        "media",
        "outlet",
        "sitename",
        "provider",
        "언론사",
        "매체",
        "출처",
        "신문사",
    ),
    "published_at": (
        "publishedat",
        "date",
        "pubdate",
        "datetime",
        "published",
        "publishdate",
        "publisheddate",
        "publicationdate",
        "releasedate",
        "createdat",
        "일자",
        "날짜",
        "게재일",
        "입력일",
        "작성일",
        "발행일",
        "보도일",
    ),
    "title": ("title", "headline", "subject", "제목", "기사제목", "헤드라인"),
    "author": ("author", "byline", "writer", "reporter", "authors", "기고자", "기자", "작성자", "저자"),
    "body": (
        "body",
        "content",
        "text",
        "article",
        "articlebody",
        "bodytext",
        "fulltext",
        "contents",
        "본문",
        "기사본문",
        "내용",
        "기사내용",
    ),
}
_KEY_STRIP = re.compile(r"[\s_\-./()]+")


def _key(name: object) -> str:
    return _KEY_STRIP.sub("", str(name)).lower()


def _field_map(keys: list) -> dict[str, object]:
    """Normalized name -> the first source key that means it (in synonym priority order)."""
    by_norm: dict[str, object] = {}
    for norm, syns in _SYNONYMS.items():
        for syn in syns:
            match = next((k for k in keys if _key(k) == syn), None)
            if match is not None:
                by_norm[norm] = match
                break
    return by_norm


_BR = re.compile(r"<br\s*/?>|</br>", re.IGNORECASE)
_BLOCK_TAG = re.compile(
    r"</?(p|div|article|section|figure|figcaption|h[1-6]|ul|ol|li|table|blockquote)\b[^>]*>", re.IGNORECASE
)
_ENTITY = re.compile(r"&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _unescape(text: str) -> str:
    """HTML entities with their semicolon only: 'R&D' and 'AT&T' stay as they are."""
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def _body_text(value: object) -> str:
    """A feed's body field as text: <br> -> newline, HTML paragraphs -> lines, entities unescaped."""
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value if isinstance(v, str | int | float))
    if not isinstance(value, str):
        return ""
    if _BLOCK_TAG.search(value):
        # Tags are read before entities so that escaped '&lt;p&gt;' stays text.
        return normalize_text(html_fragment_to_text(value))
    return normalize_text(_unescape(_BR.sub("\n", value)))


def _scalar(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, str):
        return normalize_text(value)
    return value


def _normalized_fields(fields: dict) -> tuple[str, str | None, dict]:
    """(body, title, metadata) of one record's fields; metadata keeps the fields minus the body."""
    names = _field_map(list(fields))
    body_key = names.get("body")
    body = _body_text(fields.get(body_key)) if body_key is not None else ""
    metadata = {str(k): _scalar(v) for k, v in fields.items() if k != body_key}
    for norm in ("id", "url", "source", "published_at", "title", "author"):
        key = names.get(norm)
        if key is None or norm in metadata and key != norm:
            continue
        value = fields[key]
        if value is None or value == "":
            continue
        if norm == "published_at":
            value = _published(value)
        elif norm == "title" and isinstance(value, str):
            value = _unescape(value)
        metadata[norm] = _scalar(value)
    title = metadata.get("title")
    title = title.strip() if isinstance(title, str) and title.strip() else None
    return body, title, metadata


def _published(value: object) -> object:
    """BigKinds' YYYYMMDD (as text or number) as YYYY-MM-DD; everything else as given."""
    text = str(value).strip()
    if re.fullmatch(r"(19|20)\d{6}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return value


def _blank(text: str) -> bool:
    return not text.strip().strip("\u200b\u200c\u200d\u2060\ufeff\u00a0").strip()


# ------------------------------------------------------------------ binary and text checks
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 (old Office) document"),
    (b"\x7fELF", "ELF executable"),
    (b"BZh91AY&SY", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"(\xb5/\xfd", "zstd data"),
    (b"OggS\x00", "Ogg media"),
    (b"ID3\x02", "MP3 audio"),
    (b"ID3\x03", "MP3 audio"),
    (b"ID3\x04", "MP3 audio"),
    (b"\x00\x00\x01\x00", "ICO image"),
    (b"SQLite format 3\x00", "SQLite database"),
)


def _binary_reason(data: bytes) -> str | None:
    """'PNG image at byte 0', 'NUL bytes (first at byte 8)', or None for text-looking bytes."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"{what} signature at byte 0"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "MP4/QuickTime media signature at byte 4"
    if data.startswith(b"RIFF") and data[8:12] in (b"WAVE", b"AVI ", b"WEBP"):
        return f"RIFF {data[8:12].decode().strip()} media signature at byte 0"
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")) and sniff_utf16(data) is None:
        return f"NUL bytes (first at byte {data.index(0)}, {data.count(0)} in all) and no UTF-16 pattern"
    return None


def _decode(data: bytes, where: str, declared: str | None = None) -> tuple[str, str] | Rejected:
    """decode_bytes, or the Rejected that says why the bytes are not text."""
    binary = _binary_reason(data)
    if binary:
        return Rejected(None, "binary", f"{where}binary content: {binary}", data)
    try:
        return decode_bytes(data, declared)
    except DecodeError as exc:
        return Rejected(None, "undecodable", f"{where}{exc}", data)


def _is_rejected(value: object) -> bool:
    return isinstance(value, Rejected)


def _whole_file_text(data: bytes, declared: str | None = None) -> tuple[str, str] | Rejected:
    """A one-file format's text and encoding, or why it is not an article: binary, undecodable, empty."""
    decoded = _decode(data, "", declared=declared)
    if _is_rejected(decoded):
        return decoded
    text, encoding = decoded
    if _blank(text):
        return Rejected(None, "empty", f"only whitespace ({len(data)} bytes, {encoding})", data)
    return text, encoding


# ------------------------------------------------------------------ .txt
_FRONT_LINE = re.compile(r"^([A-Za-z_][\w\-]*)[ \t]*:[ \t]?(.*)$")
_DATE_LINE = re.compile(
    r"^[ \t\u3000]*date[ \t]*:?[ \t]+(\d{4}-\d{2}-\d{2})(?:[ \t\u3000]+|$)", re.IGNORECASE
)


def _yaml_value(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r'\\(["\\])', r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _front_matter(lines: list[str]) -> tuple[dict, int] | None:
    """Fields of a leading '---' block and the index of the line after it, or None."""
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].strip() != "---":
        return None
    fields: dict = {}
    for i in range(start + 1, min(len(lines), start + 60)):
        line = lines[i]
        if line.strip() in ("---", "..."):
            return (fields, i + 1) if fields else None
        if not line.strip():
            continue
        match = _FRONT_LINE.match(line)
        if not match:
            return None
        fields[match.group(1)] = _yaml_value(match.group(2))
    return None


# 'key: value' lines before a scraped article's text: '제목: …', '날짜: 2025-10-29', 'Source: …'
_HEADER_LINE = re.compile(r"^[ \t\u3000]*([^\s:：][^:：\n]{0,19}?)[ \t]*[:：][ \t\u3000]*(.*?)[ \t\u3000]*$")
_HEADER_VALUE_MAX = 300  # longer is a paragraph of text, not a field
_HEADER_KEYS = {syn: norm for norm, syns in _SYNONYMS.items() for syn in syns}


def _header_lines(lines: list[str]) -> tuple[dict, list[str]] | None:
    """Fields of the leading 'key: value' lines whose keys name an article's fields, and the lines of the text
    after them; None when the text does not start with one.

    Only known field names count ('제목', '날짜', '출처', 'Title', 'Date', ...): a lead sentence with a colon in
    it ('정부: …') is text. A '본문:' line starts the text with its value.
    """
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        return None
    fields: dict = {}
    for i in range(start, len(lines)):
        match = _HEADER_LINE.match(lines[i])
        if match and _DATE_LINE.match(lines[i]) and not parse_timestamp(match.group(2)):
            match = None  # 'date: 2025-10-29 한국과 미국이 …': the lead on the date's line, the date line's reading
        norm = _HEADER_KEYS.get(_key(match.group(1))) if match and len(match.group(2)) <= _HEADER_VALUE_MAX else None
        if norm is None:
            return (fields, lines[i:]) if fields else None
        if norm == "body":
            return (fields, [match.group(2), *lines[i + 1:]]) if fields or match.group(2) else None
        if match.group(2):
            fields[match.group(1)] = match.group(2)
    return None


def _read_txt(data: bytes) -> tuple[list[Record], list[Rejected]]:
    decoded = _whole_file_text(data)
    if _is_rejected(decoded):
        return [], [decoded]
    text, encoding = decoded
    lines = text.split("\n")
    metadata: dict = {}
    front = _front_matter(lines)
    what = "a date line"
    if front:
        metadata, after = front
        lines = lines[after:]
        what = "front matter"
    elif header := _header_lines(lines):
        fields, lines = header
        _, _, metadata = _normalized_fields(fields)
        what = "header lines"
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None:
        match = _DATE_LINE.match(lines[first])
        if match:
            metadata["date"] = match.group(1)
            rest = lines[first][match.end() :]
            lines = lines[first + 1 :] if not rest.strip() else [rest, *lines[first + 1 :]]
    body = "\n".join(lines).strip("\n")
    if _blank(body):
        return [], [Rejected(None, "empty", f"no body text after {what} ({len(data)} bytes)", data)]
    title = metadata.get("title") or None
    return [Record(None, text, body, title, metadata, "txt", encoding, data)], []


# ------------------------------------------------------------------ .html
def _read_html(data: bytes) -> tuple[list[Record], list[Rejected]]:
    decoded = _whole_file_text(data, declared=sniff_charset(data))
    if _is_rejected(decoded):
        return [], [decoded]
    text, encoding = decoded
    try:
        page = extract_page(text)
    except Exception as exc:  # html.parser is forgiving; this is the last line of defence
        return [], [Rejected(None, "unparsable", f"HTML parser failed: {type(exc).__name__}: {exc}", data)]
    if _blank(page.body):
        return [], [
            Rejected(None, "empty", "no article text found in the page (only markup or page chrome)", data)
        ]
    return [Record(None, text, page.body, page.title, page.metadata, "html", encoding, data)], []


# ------------------------------------------------------------------ .json / .jsonl
def _json_error(exc: json.JSONDecodeError, text: str, where: str) -> str:
    rest = text[exc.pos :].strip()
    if exc.msg.startswith("Unterminated string"):
        what = f"JSON ends mid-string (string opened at column {exc.colno})"
    elif not rest:
        what = f"JSON ends mid-record at column {exc.colno} ({exc.msg})"
    else:
        what = f"invalid JSON at column {exc.colno}: {exc.msg}"
    return (
        f"{where}{what}"
        if exc.lineno == 1
        else f"{where}{what.replace('column', f'line {exc.lineno} column', 1)}"
    )


_JSON_KINDS = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


_DAMAGE = re.compile(r"[\ud800-\udfff\ufffd\x00]")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _damaged(value: object) -> str | None:
    """What a \\uXXXX escape or a spreadsheet cell smuggled in that no decoded text may hold."""
    for text in _strings(value):
        match = _DAMAGE.search(text)
        if not match:
            continue
        char = match.group()
        if char == "\ufffd":
            return "U+FFFD replacement characters (damaged before it got here)"
        if char == "\x00":
            return "a NUL character"
        return f"an unpaired surrogate U+{ord(char):04X} (a broken \\u escape)"
    return None


def _article_record(
    obj: object, index: int | None, fmt: str, encoding: str, raw_text: str, content: bytes, where: str
) -> Record | Rejected:
    if not isinstance(obj, dict):
        kind = _JSON_KINDS.get(type(obj), type(obj).__name__)
        return Rejected(
            index, "unparsable", f"{where}JSON {kind} where an article object was expected", content
        )
    body, title, metadata = _normalized_fields(obj)
    damage = _damaged([body, metadata])
    if damage:
        return Rejected(index, "undecodable", f"{where}record holds {damage}", content)
    if _blank(body):
        ident = f" (id {metadata['id']})" if metadata.get("id") not in (None, "") else ""
        names = _field_map(list(obj))
        why = (
            "its body field is empty"
            if "body" in names
            else f"no body field (keys: {', '.join(map(str, list(obj)[:12]))})"
        )
        return Rejected(index, "empty", f"{where}record{ident} has no body text: {why}", content)
    return Record(index, raw_text, body, title, metadata, fmt, encoding, content)


def _split_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(0-based line index, line bytes without its terminator) of UTF-8/ASCII-compatible bytes."""
    start = 0
    index = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        line = data[start:end]
        yield index, line[:-1] if line.endswith(b"\r") else line
        start, index = end + 1, index + 1


def _split_utf16(data: bytes, encoding: str) -> Iterator[tuple[int, bytes]]:
    """Like _split_lines for UTF-16 bytes (BOM kept on line 0)."""
    newline = "\n".encode(encoding)
    cr = "\r".encode(encoding)
    bom = 2 if data[:2] in (b"\xff\xfe", b"\xfe\xff") else 0
    start, index, pos = 0, 0, bom
    while start < len(data):
        end = pos
        while end < len(data) and data[end : end + 2] != newline:
            end += 2
        line = data[start:end]
        yield index, line[:-2] if line.endswith(cr) and len(line) > bom else line
        start = pos = end + 2
        index += 1


def _decode_utf16_line(line: bytes, encoding: str, where: str) -> tuple[str, str] | Rejected:
    if line[:2] in (b"\xff\xfe", b"\xfe\xff"):
        line = line[2:]
    try:
        return normalize_text(line.decode(encoding)), encoding
    except UnicodeDecodeError as exc:
        return Rejected(None, "undecodable", f"{where}not {encoding} at byte {exc.start} of the line", line)


def _jsonl_line(index: int, line: bytes, max_bytes: int, utf16: str | None) -> Record | Rejected | None:
    where = f"line {index + 1}: "
    if len(line) > max_bytes:
        return Rejected(
            index, "too_large", f"{where}{len(line):,} bytes is over the {max_bytes:,}-byte limit", line
        )
    if not line.strip(b" \t\r\n\x00\xff\xfe" if utf16 else b" \t\r\n"):
        return None
    decoded = _decode_utf16_line(line, utf16, where) if utf16 else _decode(line, where)
    if _is_rejected(decoded):
        decoded.source_record = index
        return decoded
    text, encoding = decoded
    if _blank(text):
        return None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return Rejected(index, "unparsable", _json_error(exc, text, where), line)
    except RecursionError:
        return Rejected(index, "unparsable", f"{where}JSON nested too deeply", line)
    return _article_record(obj, index, "jsonl", encoding, text, line, where)


def _read_jsonl(data: bytes, max_bytes: int) -> tuple[list[Record], list[Rejected]]:
    records: list[Record] = []
    rejected: list[Rejected] = []
    utf16 = (
        "utf-16-le"
        if data.startswith(b"\xff\xfe")
        else "utf-16-be"
        if data.startswith(b"\xfe\xff")
        else sniff_utf16(data)
    )
    lines = _split_utf16(data, utf16) if utf16 else _split_lines(data)
    for index, line in lines:
        result = _jsonl_line(index, line, max_bytes, utf16)
        if isinstance(result, Record):
            records.append(result)
        elif result is not None:
            rejected.append(result)
    if not records and not rejected:
        rejected.append(Rejected(None, "empty", f"no JSON lines, only whitespace ({len(data)} bytes)", data))
    return records, rejected


_ARRAY_KEYS = (
    "articles",
    "items",
    "data",
    "records",
    "results",
    "documents",
    "docs",
    "news",
    "entries",
    "rows",
)


def _read_json(data: bytes, max_bytes: int) -> tuple[list[Record], list[Rejected]]:
    decoded = _whole_file_text(data)
    if _is_rejected(decoded):
        return [], [decoded]
    text, encoding = decoded
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            records, rejected = _read_jsonl(data, max_bytes)  # JSON Lines saved as .json
            for r in records:
                r.format = "json"
            return records, rejected
        return [], [Rejected(None, "unparsable", _json_error(exc, text, ""), data)]
    except RecursionError:
        return [], [Rejected(None, "unparsable", "JSON nested too deeply", data)]
    items = None
    where = ""
    if isinstance(obj, list):
        items = obj
    elif isinstance(obj, dict):
        names = {_key(k): k for k in obj}
        key = next((names[k] for k in _ARRAY_KEYS if k in names and isinstance(obj[names[k]], list)), None)
        if key is not None and "body" not in _field_map(list(obj)):
            items, where = obj[key], f"{key}"
    if items is None:
        result = _article_record(obj, None, "json", encoding, text, data, "")
        return ([result], []) if isinstance(result, Record) else ([], [result])
    records: list[Record] = []
    rejected: list[Rejected] = []
    for i, item in enumerate(items):
        raw = json.dumps(item, ensure_ascii=False)
        result = _article_record(
            item, i, "json", encoding, raw, raw.encode("utf-8"), f"{where}[{i}]: " if where else f"[{i}]: "
        )
        (records if isinstance(result, Record) else rejected).append(result)
    if not items:
        rejected.append(
            Rejected(None, "empty", f"JSON array{' ' + where if where else ''} has no articles", data)
        )
    return records, rejected


# ------------------------------------------------------------------ .csv
def _read_csv(data: bytes) -> tuple[list[Record], list[Rejected]]:
    decoded = _whole_file_text(data)
    if _is_rejected(decoded):
        return [], [decoded]
    text, encoding = decoded
    # The delimiter is the header line's most common candidate (csv.Sniffer misreads quoted bodies).
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=header_line.count) if any(d in header_line for d in ",;\t|") else ","
    lines = text.split("\n")  # as the reader counts them (str.splitlines also splits at U+2028, \x85 ...)
    lines = [line + "\n" for line in lines[:-1]] + lines[-1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        return [], [Rejected(None, "unparsable", f"CSV header unreadable: {exc}", data)]
    header = [h.strip().lstrip("\ufeff") for h in header]
    if "body" not in _field_map(header):
        return [], [
            Rejected(
                None, "unparsable", f"CSV header has no body column (got: {', '.join(header[:20])})", data
            )
        ]
    records: list[Record] = []
    rejected: list[Rejected] = []
    seen = reader.line_num
    index = -1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            index += 1
            raw = "".join(lines[seen:])
            rejected.append(
                Rejected(
                    index,
                    "unparsable",
                    f"row {index + 1} (line {seen + 1}): {exc}",
                    raw.encode(encoding if encoding != "utf-8-sig" else "utf-8"),
                )
            )
            break
        index += 1
        raw = "".join(lines[seen : reader.line_num]).rstrip("\n")
        where = f"row {index + 1} (line {seen + 1}): "
        seen = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        content = raw.encode("utf-8" if encoding == "utf-8-sig" else encoding)
        fields = dict(zip(header, row, strict=False))
        if len(row) > len(header):
            fields["_extra"] = row[len(header) :]
        result = _article_record(fields, index, "csv", encoding, raw, content, where)
        (records if isinstance(result, Record) else rejected).append(result)
    if not records and not rejected:
        rejected.append(Rejected(None, "empty", "CSV has a header but no rows", data))
    return records, rejected


# ------------------------------------------------------------------ .xlsx
def _read_xlsx(data: bytes) -> tuple[list[Record], list[Rejected]]:
    if not data.startswith(b"PK\x03\x04"):
        binary = _binary_reason(data)
        what = binary or f"starts with {data[:8]!r}"
        return [], [Rejected(None, "unparsable", f"not an xlsx workbook (no ZIP signature): {what}", data)]
    try:
        from openpyxl import load_workbook  # imported here: openpyxl costs ~0.2 s to import

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML and its own errors
        return [], [
            Rejected(None, "unparsable", f"not a readable xlsx workbook: {type(exc).__name__}: {exc}", data)
        ]
    try:
        return _xlsx_rows(workbook, data)
    except Exception as exc:
        return [], [Rejected(None, "unparsable", f"xlsx read failed: {type(exc).__name__}: {exc}", data)]
    finally:
        workbook.close()


def _xlsx_rows(workbook, data: bytes) -> tuple[list[Record], list[Rejected]]:
    records: list[Record] = []
    rejected: list[Rejected] = []
    for sheet in workbook.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header: list[str] | None = None
        for row in rows:
            if any(v not in (None, "") for v in row):
                header = [
                    normalize_text(str(v)).strip() if v is not None else f"column_{i + 1}"
                    for i, v in enumerate(row)
                ]
                break
        if header is None or "body" not in _field_map(header):
            continue
        index = -1
        for row in rows:
            index += 1
            if not any(v not in (None, "") for v in row):
                continue
            fields = {h: _scalar(v) for h, v in zip(header, row, strict=False)}
            raw = json.dumps(fields, ensure_ascii=False, default=str)
            where = f"sheet {sheet.title!r} row {index + 2}: "
            result = _article_record(fields, index, "xlsx", "utf-8", raw, raw.encode("utf-8"), where)
            (records if isinstance(result, Record) else rejected).append(result)
        if records or rejected:
            return records, rejected
        return [], [Rejected(None, "empty", f"sheet {sheet.title!r} has a header but no rows", data)]
    names = ", ".join(repr(s.title) for s in workbook.worksheets)
    return [], [
        Rejected(None, "unparsable", f"no sheet has a body column (본문/body/content); sheets: {names}", data)
    ]


# ------------------------------------------------------------------ entry point
def _stream_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_JSONL_FILE_CAP = 50


def read_file(path: Path, *, max_bytes: int = 10_000_000) -> tuple[list[Record], list[Rejected]]:
    """Records and rejections of one file. Never raises for bad content: every problem becomes a Rejected.

    `content` is the file's bytes for .txt/.html/single-object .json, the line's bytes (terminator
    excluded) for .jsonl, the row's source lines for .csv (re-encoded after NFC/LF normalization),
    and the re-serialized object (UTF-8 JSON) for .json arrays and .xlsx rows. A .jsonl file is
    limited per line, every other format per file. Raises OSError only when the file cannot be read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if suffix not in SUPPORTED:
        shown = suffix or "(none)"
        detail = f"extension {shown} is not one of {' '.join(SUPPORTED)} ({size:,} bytes)"
        if size > max_bytes:
            return [], [Rejected(None, "unsupported_format", detail, b"", _stream_sha256(path))]
        return [], [Rejected(None, "unsupported_format", detail, path.read_bytes())]
    # A .jsonl batch is limited per line (and per file only by a hard cap): a feed is not one article.
    limit = max_bytes * _JSONL_FILE_CAP if suffix == ".jsonl" else max_bytes
    if size > limit:
        detail = f"{size:,} bytes is over the {limit:,}-byte limit"
        return [], [Rejected(None, "too_large", detail, b"", _stream_sha256(path))]
    data = path.read_bytes()
    if not data:
        return [], [Rejected(None, "empty", "0 bytes", data)]
    try:
        return _READERS[suffix](data, max_bytes)
    except (MemoryError, RecursionError, ValueError, LookupError, TypeError, AttributeError) as exc:
        # A parser bug must not stop a whole ingest: the file is quarantined with the error named.
        detail = f"{suffix[1:]} reader failed: {type(exc).__name__}: {exc}"
        return [], [Rejected(None, "unparsable", detail, data)]


_READERS = {
    ".txt": lambda data, _: _read_txt(data),
    ".html": lambda data, _: _read_html(data),
    ".htm": lambda data, _: _read_html(data),
    ".jsonl": _read_jsonl,
    ".json": _read_json,
    ".csv": lambda data, _: _read_csv(data),
    ".xlsx": lambda data, _: _read_xlsx(data),
}
