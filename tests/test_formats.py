"""read_file: one rule per test on small hand-made files, then a generated corpus checked by its manifest."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newsetl.formats import REASONS, SUPPORTED, Record, Rejected, read_file

ROOT = Path(__file__).resolve().parents[1]
MAKE_CORPUS = ROOT.parent / "shared" / "corpus" / "make_corpus.py"

LEAD = "한국과 미국이 29일 반도체 공급망 협력 양해각서(MOU)를 체결했다."
SECOND = '산업통상자원부 관계자는 "환영한다"고 밝혔다.'


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def one_record(path: Path, **kw) -> Record:
    records, rejected = read_file(path, **kw)
    assert rejected == [], rejected
    assert len(records) == 1
    return records[0]


def one_rejection(path: Path, **kw) -> Rejected:
    records, rejected = read_file(path, **kw)
    assert records == []
    assert len(rejected) == 1, rejected
    assert rejected[0].reason in REASONS
    assert "\n" not in rejected[0].detail
    return rejected[0]


# ------------------------------------------------------------------ .txt
def test_txt_front_matter_goes_to_metadata(tmp_path):
    text = (
        '---\ntitle: "[단독] 한·미: 공급망 협력"\nsource: 연합뉴스\npublished_at: 2025-10-29 14:03\n'
        f"url: https://www.yna.co.kr/view/AKR1\n---\n{LEAD}\n\n{SECOND}\n"
    )
    rec = one_record(write(tmp_path, "a.txt", text))
    assert rec.metadata == {
        "title": "[단독] 한·미: 공급망 협력",
        "source": "연합뉴스",
        "published_at": "2025-10-29 14:03",
        "url": "https://www.yna.co.kr/view/AKR1",
    }
    assert rec.title == "[단독] 한·미: 공급망 협력"
    assert rec.body == f"{LEAD}\n\n{SECOND}"
    assert rec.raw_text == text
    assert (rec.format, rec.encoding, rec.source_record) == ("txt", "utf-8", None)
    assert rec.content == text.encode()


def test_txt_date_line_alone(tmp_path):
    rec = one_record(write(tmp_path, "a.txt", f"date 2025-10-29\n제목 줄\n{LEAD}\n"))
    assert rec.metadata == {"date": "2025-10-29"}
    assert rec.body == f"제목 줄\n{LEAD}"
    assert rec.title is None


def test_txt_date_inline_before_the_lead(tmp_path):
    rec = one_record(write(tmp_path, "a.txt", f" date 2025-10-29 {LEAD}\n\n{SECOND}\n"))
    assert rec.metadata == {"date": "2025-10-29"}
    assert rec.body == f"{LEAD}\n\n{SECOND}"


def test_txt_seed_article_with_inline_date():
    seed = next((ROOT / "seeds" / "articles").glob("004_*.txt"), None)
    if seed is None:
        pytest.skip("seed article 004 not present")
    rec = one_record(seed)
    assert rec.metadata["date"] == "2025-10-29"
    assert rec.body.startswith("한국과 미국이")


def test_txt_without_metadata_keeps_everything(tmp_path):
    text = f"date 표기가 없는 제목\n{LEAD}\n---\n{SECOND}"
    rec = one_record(write(tmp_path, "a.txt", text))
    assert rec.metadata == {}
    assert rec.body == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-8-sig", "cp949"])
def test_txt_encodings(tmp_path, encoding):
    text = f"date 2025-10-29\r\n{LEAD}\r\n{SECOND}\r\n"
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-8-sig": b""}.get(encoding, b"")
    data = bom + text.encode(encoding)
    rec = one_record(write(tmp_path, "a.txt", data))
    assert rec.encoding == encoding
    assert rec.body == f"{LEAD}\n{SECOND}"
    assert rec.content == data


def test_txt_nfd_becomes_nfc(tmp_path):
    import unicodedata

    rec = one_record(write(tmp_path, "a.txt", unicodedata.normalize("NFD", LEAD)))
    assert rec.body == LEAD


@pytest.mark.parametrize(
    ("data", "reason", "detail"),
    [
        (b"", "empty", "0 bytes"),
        ("  \n\t\n   \r\n\u3000\n".encode(), "empty", "whitespace"),
        (b"\xff\xfe" + " \u3000\r\n".encode("utf-16-le"), "empty", "whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary", "PNG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00junk", "binary", "ZIP"),
        (b"some text\x00\x00\x00\x07\x13 more", "binary", "NUL"),
        (LEAD.encode() + b"\xff\xfe\xed\xa0\x80\xc3\x28" + LEAD.encode(), "undecodable", "byte 87"),
        ("---\ntitle: 제목\nsource: 뉴스1\n---\n\n".encode(), "empty", "front matter"),
    ],
)
def test_txt_rejections(tmp_path, data, reason, detail):
    rej = one_rejection(write(tmp_path, "a.txt", data))
    assert rej.reason == reason
    assert detail in rej.detail
    assert rej.content == data
    assert rej.sha256 == hashlib.sha256(data).hexdigest()


def test_too_large_is_decided_from_the_size(tmp_path):
    data = (LEAD + "\n").encode() * 200
    rej = one_rejection(write(tmp_path, "a.txt", data), max_bytes=1000)
    assert rej.reason == "too_large"
    assert f"{len(data):,} bytes" in rej.detail
    assert rej.content == b""  # not held in memory ...
    assert rej.sha256 == hashlib.sha256(data).hexdigest()  # ... but still identified


def test_unsupported_extension(tmp_path):
    data = b"PK\x03\x04\x14\x00\x06\x00" + bytes(100)
    rej = one_rejection(write(tmp_path, "Report_2025_final.docx", data))
    assert rej.reason == "unsupported_format"
    assert ".docx" in rej.detail
    assert rej.content == data
    assert ".txt" in SUPPORTED and ".docx" not in SUPPORTED


# ------------------------------------------------------------------ .jsonl
def jsonl_line(**fields) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode()


def test_jsonl_lines_synonyms_and_rejections(tmp_path):
    lines = [
        jsonl_line(
            id="a1",
            url="https://x/1",
            source="연합뉴스",
            published_at="2025-10-29T14:03:00+09:00",
            title="제목 1",
            body=f"{LEAD}\n{SECOND}",
        ),
        b'{"id": "a2", "body": "cut mid-str',
        b"",
        jsonl_line(
            article_id="a3",
            content=f"{LEAD}<br /><br />&quot;{SECOND}&quot; R&D",
            date="2025.10.29 14:03",
            publisher="뉴시스",
            headline="&lt;종합&gt; 제목 3",
            extra={"k": 1},
        ),
        json.dumps({"id": "a4", "text": LEAD, "press": "뉴스1"}, ensure_ascii=True).encode(),
        jsonl_line(id="a5", title="본문 없음", body="  \u3000 "),
        b"[1, 2, 3]",
        jsonl_line(id="a6", body=LEAD, media="한국경제", datetime="2025-10-29 14:03:00"),
    ]
    data = b"\n".join(lines[:-1]) + b"\r\n" + lines[-1]  # CRLF once, no final newline
    records, rejected = read_file(write(tmp_path, "feed.jsonl", data))
    by_index = {r.source_record: r for r in records}
    assert sorted(by_index) == [0, 3, 4, 7]
    a1, a3, a4, a6 = by_index[0], by_index[3], by_index[4], by_index[7]
    assert (a1.body, a1.title, a1.metadata["source"]) == (f"{LEAD}\n{SECOND}", "제목 1", "연합뉴스")
    assert "body" not in a1.metadata
    assert a3.body == f'{LEAD}\n\n"{SECOND}" R&D'
    assert a3.title == "<종합> 제목 3"
    assert a3.metadata["published_at"] == "2025.10.29 14:03"
    assert a3.metadata["date"] == "2025.10.29 14:03"  # the source's own field stays as given
    assert (a3.metadata["source"], a3.metadata["id"], a3.metadata["extra"]) == ("뉴시스", "a3", {"k": 1})
    assert "content" not in a3.metadata
    assert a4.body == LEAD and a4.metadata["source"] == "뉴스1"
    assert a4.raw_text.isascii()  # \uXXXX-escaped line: raw text as received, body decoded
    assert a6.metadata["published_at"] == "2025-10-29 14:03:00"
    assert all(r.format == "jsonl" and r.encoding == "utf-8" for r in records)
    assert a6.content == lines[7] and a1.content == lines[0]  # exact bytes, terminator excluded
    reasons = {r.source_record: (r.reason, r.detail) for r in rejected}
    assert reasons[1][0] == "unparsable" and reasons[1][1].startswith("line 2: JSON ends mid-string")
    assert reasons[5][0] == "empty" and "a5" in reasons[5][1]
    assert reasons[6] == ("unparsable", "line 7: JSON array where an article object was expected")
    # nothing lost: record and rejection bytes rebuild the file
    pieces = {r.source_record: r.content for r in [*records, *rejected]}
    rebuilt = b"\n".join(pieces.get(i, b"") for i in range(len(lines)))
    assert rebuilt == data.replace(b"\r\n", b"\n")


def test_jsonl_escapes_that_hide_damage_are_rejected(tmp_path):
    lines = [
        b'{"id": 1, "body": "ok \\ud55c"}',
        b'{"id": 2, "body": "bad \\ud800 x"}',
        b'{"id": 3, "body": "\\ufffd"}',
        b'{"id": 4, "body": "a", "x": "\\u0000"}',
    ]
    records, rejected = read_file(write(tmp_path, "feed.jsonl", b"\n".join(lines)))
    assert [(r.source_record, r.body) for r in records] == [(0, "ok 한")]
    assert [(r.source_record, r.reason) for r in rejected] == [
        (1, "undecodable"),
        (2, "undecodable"),
        (3, "undecodable"),
    ]
    assert "surrogate U+D800" in rejected[0].detail and "U+FFFD" in rejected[1].detail
    assert "NUL" in rejected[2].detail


def test_jsonl_truncated_final_line_is_rejected_alone(tmp_path):
    good = jsonl_line(id="a1", body=LEAD)
    bad = jsonl_line(id="a2", body=LEAD)[:25]
    records, rejected = read_file(write(tmp_path, "feed.jsonl", good + b"\n" + bad))
    assert [r.source_record for r in records] == [0]
    assert [(r.source_record, r.reason, r.content) for r in rejected] == [(1, "unparsable", bad)]
    assert rejected[0].detail.startswith("line 2: ")


def test_jsonl_utf16_with_bom(tmp_path):
    text = "\n".join(json.dumps({"id": i, "body": LEAD}, ensure_ascii=False) for i in range(3)) + "\n"
    records, rejected = read_file(write(tmp_path, "feed.jsonl", b"\xff\xfe" + text.encode("utf-16-le")))
    assert rejected == []
    assert [(r.source_record, r.body, r.encoding) for r in records] == [
        (i, LEAD, "utf-16-le") for i in range(3)
    ]


def test_jsonl_line_limit_and_bad_bytes(tmp_path):
    big = jsonl_line(id="big", body=LEAD * 100)
    data = jsonl_line(id="a1", body=LEAD) + b"\n" + big + b"\n" + b'{"id": "x", "body": "\xff\xfe"}'
    records, rejected = read_file(write(tmp_path, "feed.jsonl", data), max_bytes=len(big) - 1)
    assert [r.source_record for r in records] == [0]
    assert [(r.source_record, r.reason) for r in rejected] == [(1, "too_large"), (2, "undecodable")]
    assert rejected[1].detail.startswith("line 3: ")


# ------------------------------------------------------------------ .json
def test_json_object_array_and_articles_key(tmp_path):
    obj = {"id": "a1", "title": "제목", "body": LEAD, "source": "연합뉴스"}
    rec = one_record(write(tmp_path, "one.json", json.dumps(obj, ensure_ascii=False)))
    assert (rec.source_record, rec.body, rec.title, rec.format) == (None, LEAD, "제목", "json")

    items = [obj, {"id": "a2", "content": SECOND}, "not an object", {"id": "a4"}]
    for name, payload in (("arr.json", items), ("wrapped.json", {"count": 4, "articles": items})):
        records, rejected = read_file(write(tmp_path, name, json.dumps(payload, ensure_ascii=False)))
        assert [(r.source_record, r.body) for r in records] == [(0, LEAD), (1, SECOND)]
        assert [(r.source_record, r.reason) for r in rejected] == [(2, "unparsable"), (3, "empty")]
        assert json.loads(records[1].raw_text) == items[1]
        assert records[1].content == records[1].raw_text.encode()


def test_json_syntax_error_names_line_and_column(tmp_path):
    rej = one_rejection(write(tmp_path, "a.json", '{\n  "id": "a1",\n  "body": "abc" "x"\n}'))
    assert rej.reason == "unparsable"
    assert "line 3 column" in rej.detail


# ------------------------------------------------------------------ .html
PAGE = """<!DOCTYPE html><html lang="ko"><head>
<meta charset="{charset}">
<title>{title} - 뉴시스</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="뉴시스">
<link rel="canonical" href="https://www.newsis.com/view/NISX1">
<meta property="article:published_time" content="2025-03-28T20:55:00+09:00">
<script>gtag('config','G-7X2K9Q');</script><style>p{{margin:0}}</style>
</head><body>
<header id="header"><nav class="gnb"><ul><li><a href="/s/0">정치</a></li><li>경제</li></ul></nav></header>
<div class="share_box"><button>페이스북</button><button>URL 복사</button></div>
<main id="container">{article}
<aside class="related"><h3>관련기사</h3><ul><li><a href="/n/1">"리튬 확보가 국력"</a></li></ul></aside>
<aside class="ranking"><h3>많이 본 뉴스</h3><ol><li>현대자동차 주가 급등</li></ol></aside>
</main>
<footer id="footer"><p>Copyright ⓒ 뉴시스. All rights reserved.</p></footer>
<script>function copyUrl(){{alert('주소가 복사되었습니다.');}}</script>
</body></html>"""
CHROME = (
    "정치",
    "페이스북",
    "URL 복사",
    "관련기사",
    "리튬 확보가",
    "많이 본 뉴스",
    "현대자동차",
    "gtag",
    "Copyright",
    "copyUrl",
    "margin",
)
TITLE = "한·미, 반도체 &quot;동맹&quot; 강화"


def page(article: str, charset: str = "utf-8", title: str = TITLE) -> str:
    return PAGE.format(charset=charset, title=title, article=article)


ARTICLE = """<article id="article_view"><h1 class="headline">한·미, 반도체 "동맹" 강화</h1>
<div class="article_info"><span class="writer">윤준영 기자</span>
<span class="date">입력 2025.03.28 20:55</span></div>
<div class="article_body" itemprop="articleBody">
<p>{lead}</p>
<figure class="photo"><img src="x.jpg" alt=""><figcaption>사진=연합뉴스</figcaption></figure>
<p class="subtitle">업계 "불확실성 커졌다"</p>
<p>{second} <b>굵게</b> 이어서 &amp; 끝.</p>
<div class="sns_share"><a>공유</a></div>
<p class="reporter">윤준영 기자 (yoonjy@newsis.com)</p>
</div></article>"""


def test_html_article_body_and_metadata(tmp_path):
    html = page(ARTICLE.format(lead=LEAD, second=SECOND))
    rec = one_record(write(tmp_path, "a.html", html))
    assert rec.body.split("\n") == [
        LEAD,
        "사진=연합뉴스",
        '업계 "불확실성 커졌다"',
        f"{SECOND} 굵게 이어서 & 끝.",
        "윤준영 기자 (yoonjy@newsis.com)",
    ]
    assert not [c for c in CHROME if c in rec.body]
    assert rec.title == '한·미, 반도체 "동맹" 강화'
    assert rec.metadata == {
        "title": '한·미, 반도체 "동맹" 강화',
        "source": "뉴시스",
        "url": "https://www.newsis.com/view/NISX1",
        "published_at": "2025-03-28T20:55:00+09:00",
        "published_at_text": "2025.03.28 20:55",
        "page_title": '한·미, 반도체 "동맹" 강화 - 뉴시스',
    }
    assert (rec.format, rec.encoding, rec.raw_text, rec.content) == ("html", "utf-8", html, html.encode())


def test_html_br_paragraphs_and_euc_kr(tmp_path):
    article = f'<article><div itemprop="articleBody">{LEAD}<br><br>\n{SECOND}<br/>셋째 줄</div></article>'
    data = page(article, charset="euc-kr").encode("cp949")
    rec = one_record(write(tmp_path, "a.htm", data))
    assert rec.encoding == "cp949"
    assert rec.body == f"{LEAD}\n{SECOND}\n셋째 줄"


def test_html_article_without_body_container_skips_headline_and_info(tmp_path):
    article = (
        '<article><h1>한·미, 반도체 "동맹" 강화</h1><div class="info"><span>기자</span>'
        f"<span>입력 2025.03.28 20:55</span></div><p>{LEAD}</p><p>{SECOND}</p></article>"
    )
    rec = one_record(write(tmp_path, "a.html", page(article)))
    assert rec.body == f"{LEAD}\n{SECOND}"
    assert rec.metadata["published_at_text"] == "2025.03.28 20:55"


def test_html_div_soup_takes_the_densest_block(tmp_path):
    html = (
        "<html><head><title>제목 | 매체</title></head><body><div class='top'><a>홈</a> <a>로그인</a></div>"
        f"<div id='x1'><div class='txt'>{LEAD}<br>{SECOND}<br>{LEAD}</div></div>"
        "<div class='bottom'><a>회사소개</a></div></body></html>"
    )
    rec = one_record(write(tmp_path, "a.html", html))
    assert rec.body == f"{LEAD}\n{SECOND}\n{LEAD}"
    assert rec.title == "제목 | 매체" and "source" not in rec.metadata


def test_html_without_article_text_is_empty(tmp_path):
    html = page("<article><div itemprop='articleBody'>  <script>var a=1;</script> </div></article>")
    rej = one_rejection(write(tmp_path, "a.html", html))
    assert rej.reason == "empty"


# ------------------------------------------------------------------ .csv
QUOTED = SECOND.replace('"', '""')


def test_csv_korean_headers(tmp_path):
    text = (
        "제목,본문,일자,언론사,URL\r\n"
        f'"제목, 쉼표",{LEAD},2025-10-29,연합뉴스,https://x/1\r\n'
        f'제목2,"{LEAD}\r\n{QUOTED}",20251030,뉴시스,https://x/2\r\n'
        ",,,,\r\n"
        "본문없음,,2025-10-31,뉴스1,https://x/4\r\n"
    )
    records, rejected = read_file(write(tmp_path, "a.csv", b"\xef\xbb\xbf" + text.encode()))
    assert [(r.source_record, r.title, r.body) for r in records] == [
        (0, "제목, 쉼표", LEAD),
        (1, "제목2", f"{LEAD}\n{SECOND}"),
    ]
    assert records[1].metadata["published_at"] == "2025-10-30"
    assert records[1].metadata["일자"] == "20251030"
    assert records[0].metadata["source"] == "연합뉴스" and records[0].metadata["url"] == "https://x/1"
    assert records[0].encoding == "utf-8-sig" and records[0].format == "csv"
    assert records[1].raw_text == f'제목2,"{LEAD}\n{QUOTED}",20251030,뉴시스,https://x/2'
    assert records[1].content == records[1].raw_text.encode()
    assert [(r.source_record, r.reason) for r in rejected] == [(3, "empty")]
    assert rejected[0].detail.startswith("row 4 (line 6): ")


def test_csv_row_text_with_unicode_line_separators(tmp_path):
    text = f"title,body\n가\u2028나,{LEAD}\x85끝\n다,{SECOND}\n"
    records, rejected = read_file(write(tmp_path, "a.csv", text))
    assert rejected == []
    assert [r.raw_text for r in records] == [f"가\u2028나,{LEAD}\x85끝", f"다,{SECOND}"]


def test_csv_cp949_and_english_headers(tmp_path):
    data = f"headline,content,pubdate\n제목,{LEAD},2025-10-29\n".encode("cp949")
    rec = one_record(write(tmp_path, "a.csv", data))
    assert (rec.title, rec.body, rec.encoding, rec.metadata["published_at"]) == (
        "제목",
        LEAD,
        "cp949",
        "2025-10-29",
    )


def test_csv_without_body_column_is_unparsable(tmp_path):
    rej = one_rejection(write(tmp_path, "a.csv", "a,b\n1,2\n"))
    assert rej.reason == "unparsable" and "no body column" in rej.detail


# ------------------------------------------------------------------ .xlsx
BIGKINDS = [
    "뉴스 식별자",
    "일자",
    "언론사",
    "기고자",
    "제목",
    "통합 분류1",
    "통합 분류2",
    "통합 분류3",
    "사건/사고 분류1",
    "사건/사고 분류2",
    "사건/사고 분류3",
    "인물",
    "위치",
    "기관",
    "키워드",
    "특성추출(가중치순 상위 50개)",
    "본문",
    "URL",
    "분석제외 여부",
]


def bigkinds_row(n: int, body: str) -> list:
    return [
        f"01100101.2025031{n}",
        f"2025031{n}",
        "연합뉴스",
        "홍길동",
        f"제목 {n}",
        "경제>반도체",
        None,
        None,
        None,
        None,
        None,
        "홍길동",
        "서울",
        "산업통상자원부",
        "반도체,공급망",
        "반도체,공급망,협력",
        body,
        f"https://x/{n}",
        None,
    ]


def test_xlsx_bigkinds_export(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(BIGKINDS)
    ws.append(bigkinds_row(1, f"{LEAD}\r\n{SECOND}"))
    ws.append([None] * 19)
    ws.append(bigkinds_row(3, ""))
    row = bigkinds_row(4, LEAD)
    row[1] = 20250314  # a number, as some exports store it
    ws.append(row)
    path = tmp_path / "NewsResult_20250301-20250331.xlsx"
    wb.save(path)
    records, rejected = read_file(path)
    assert [(r.source_record, r.title, r.body) for r in records] == [
        (0, "제목 1", f"{LEAD}\n{SECOND}"),
        (3, "제목 4", LEAD),
    ]
    first = records[0].metadata
    assert set(BIGKINDS) - {"본문"} <= set(first)
    assert first["특성추출(가중치순 상위 50개)"] == "반도체,공급망,협력"
    assert {k: first[k] for k in ("id", "source", "published_at", "title", "url", "author")} == {
        "id": "01100101.20250311",
        "source": "연합뉴스",
        "published_at": "2025-03-11",
        "title": "제목 1",
        "url": "https://x/1",
        "author": "홍길동",
    }
    assert records[1].metadata["published_at"] == "2025-03-14"
    assert records[0].format == "xlsx"
    assert json.loads(records[0].content)["본문"] == f"{LEAD}\n{SECOND}"
    assert [(r.source_record, r.reason) for r in rejected] == [(2, "empty")]
    assert "row 4" in rejected[0].detail


def test_xlsx_junk_is_unparsable(tmp_path):
    rej = one_rejection(write(tmp_path, "a.xlsx", b"PK\x03\x04" + bytes(200)))
    assert rej.reason == "unparsable"
    rej = one_rejection(write(tmp_path, "b.xlsx", LEAD.encode()))
    assert rej.reason == "unparsable" and "ZIP" in rej.detail


# ------------------------------------------------------------------ damaged input never raises
def _good_files(tmp_path: Path) -> dict[str, bytes]:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(BIGKINDS)
    wb.active.append(bigkinds_row(1, LEAD))
    wb.save(tmp_path / "seed.xlsx")
    return {
        ".txt": f"---\ntitle: 제목\nsource: 뉴스1\n---\n{LEAD}\n{SECOND}\n".encode(),
        ".jsonl": b"\n".join(jsonl_line(id=i, body=LEAD, title="제목") for i in range(3)),
        ".json": json.dumps({"articles": [{"id": 1, "body": LEAD}]}, ensure_ascii=False).encode(),
        ".html": page(ARTICLE.format(lead=LEAD, second=SECOND)).encode(),
        ".csv": f"제목,본문\n제목,{LEAD}\n".encode("cp949"),
        ".xlsx": (tmp_path / "seed.xlsx").read_bytes(),
    }


def test_damaged_files_never_raise(tmp_path):
    import random

    rng = random.Random(20251029)
    for suffix, good in _good_files(tmp_path).items():
        for trial in range(60):
            data = bytearray(good)
            op = trial % 4
            if op == 0:
                data = data[: rng.randrange(len(data))]
            elif op == 1:
                for _ in range(rng.randint(1, 8)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            elif op == 2:
                at = rng.randrange(len(data))
                data[at:at] = rng.choice(
                    [b"\x00", b"\xff\xfe", b"\x1b[0m", b"<", b'"', b"\r", b"\xed\xa0\x80"]
                )
            else:
                data = bytearray(rng.randbytes(rng.randint(0, 300)))
            path = write(tmp_path, f"f{trial}{suffix}", bytes(data))
            records, rejected = read_file(path)
            for r in records:
                assert isinstance(r, Record) and "\ufffd" not in r.body + r.raw_text and r.body.strip()
            for r in rejected:
                assert r.reason in REASONS and r.detail and "\n" not in r.detail, (suffix, trial, r)


# ------------------------------------------------------------------ a generated corpus
LATER_STAGE_FAULTS = {"boilerplate_only", "future_date", "absurd_date"}  # quarantined after read_file
FAULT_REASON = {
    "empty_file": "empty",
    "whitespace_only": "empty",
    "binary_junk": "binary",
    "unsupported_extension": "unsupported_format",
    "invalid_utf8": "undecodable",
    "oversized": "too_large",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    if not MAKE_CORPUS.exists():
        pytest.skip(f"corpus generator not found at {MAKE_CORPUS}")
    out = tmp_path_factory.mktemp("corpus") / "c"
    subprocess.run(
        [sys.executable, str(MAKE_CORPUS), str(out), "--articles", "300", "--faults", "--seed", "3"],
        check=True,
        capture_output=True,
    )
    return out


def _manifest(corpus: Path) -> list[dict]:
    return [json.loads(line) for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]


def test_corpus_files_read_as_the_manifest_says(corpus):
    gold = {
        g["id"]: g for g in map(json.loads, (corpus / "gold.jsonl").read_text(encoding="utf-8").splitlines())
    }
    seen_faults = set()
    counts = {"records": 0, "html": 0, "front_matter": 0, "date_line": 0}
    for entry in _manifest(corpus):
        path = corpus / entry["path"]
        records, rejected = read_file(path)
        label = f"{entry['path']} ({entry.get('fault') or entry['kind']})"
        for r in records:
            assert "\ufffd" not in r.raw_text + r.body, label
            assert r.body.strip(), label
        fault = entry.get("fault")
        if fault:
            seen_faults.add(fault)
        if fault in FAULT_REASON:
            assert records == [], label
            assert [r.reason for r in rejected] == [FAULT_REASON[fault]], label
            assert rejected[0].detail and "\n" not in rejected[0].detail, label
            continue
        if fault in LATER_STAGE_FAULTS:
            assert len(records) == 1 and rejected == [], label
            assert records[0].metadata.get("published_at"), label
            continue
        # articles: one record per gold id, bad lines rejected alone
        assert len(records) == len(entry["articles"]), label
        assert [r.source_record + 1 for r in rejected] == entry.get("bad_lines", []), label
        assert all(r.reason == "unparsable" for r in rejected), label
        if entry["encoding"]:
            assert {r.encoding for r in records} == {entry["encoding"]}, label
        counts["records"] += len(records)
        if entry["format"] == "jsonl":
            assert [r.metadata["id"] for r in records] == entry["articles"], label
            _check_jsonl_nothing_lost(path, records, rejected)
            continue
        rec, meta = records[0], entry["meta"]
        want = gold[entry["articles"][0]]
        assert rec.format == entry["format"], label
        if entry["format"] == "html":
            counts["html"] += 1
            _check_html(path, rec, want, meta, label)
        elif meta["published_date"] == "front_matter":
            counts["front_matter"] += 1
            assert rec.title == want["title"] and rec.metadata["source"] == want["publisher"], label
            assert rec.metadata["published_at"][:10].replace(".", "-") == want["published_date"], label
            assert not rec.body.startswith("---"), label
        elif meta["published_date"] == "date_line":
            counts["date_line"] += 1
            assert rec.metadata["date"] == want["published_date"], label
            assert not re.match(r"\s*date \d{4}", rec.body), label
        else:
            assert "date" not in rec.metadata and rec.title is None, label
        for event in want["events"]:
            assert event["sentence"] in rec.body, label
    assert seen_faults >= set(FAULT_REASON) | LATER_STAGE_FAULTS | {"truncated_json_line"}
    assert counts["records"] > 300 and min(counts.values()) > 0, counts


def _check_jsonl_nothing_lost(path: Path, records: list[Record], rejected: list[Rejected]) -> None:
    lines = path.read_bytes().split(b"\n")
    pieces = {r.source_record: r.content for r in [*records, *rejected]}
    assert all(pieces.get(i, b"") == line for i, line in enumerate(lines) if line.strip()), path
    assert set(pieces) == {i for i, line in enumerate(lines) if line.strip()}, path


def _check_html(path: Path, rec: Record, want: dict, meta: dict, label: str) -> None:
    page_text = rec.raw_text
    assert rec.title == want["title"], label
    assert rec.metadata["source"] == want["publisher"], label
    url = re.sub(r"[?&]utm_.*$", "", rec.metadata["url"]).replace("https://m.", "https://www.")
    assert url == want["url"], label
    stamp = rec.metadata["published_at_text"]
    assert stamp[:10].replace(".", "-") == want["published_date"], label
    if meta["published_date"] == "html_meta":
        assert rec.metadata["published_at"].startswith(want["published_date"]), label
    else:
        assert "published_at" not in rec.metadata, label
    # related and ranking lists, nav, share buttons and scripts stay out of the body
    import html as html_lib

    asides = "".join(re.findall(r'<aside class="(?:related|ranking)">.*?</aside>', page_text, re.DOTALL))
    listed = re.findall(r"<li>(?:<a [^>]*>)?(?:<img [^>]*>)?([^<]+)(?:</a>)?</li>", asides)
    assert listed, label
    for item in listed:
        assert html_lib.unescape(item) not in rec.body, (label, item)
    lines = set(rec.body.split("\n"))
    chrome_lines = set(
        re.findall(r"<(?:li|button|h3)>(?:<a [^>]*>)?([^<]+)", page_text[: page_text.index("<main")])
    )
    chrome_lines |= {"관련기사", "많이 본 뉴스"}
    assert len(chrome_lines) > 8 and not lines & chrome_lines, (label, lines & chrome_lines)
    for chrome in ("gtag(", "주소가 복사", "등록번호", "청소년보호책임자", "입력 20"):
        assert chrome not in rec.body, (label, chrome)
    assert rec.body.split("\n")[0] != want["title"], label


def test_txt_header_lines_in_korean_go_to_metadata(tmp_path):
    text = f"제목: 美 상무부, 中 기업 140곳 수출통제\n발행일: 2026년 12월 3일\n출처: 뉴스1\n\n{LEAD}\n\n{SECOND}\n"
    rec = one_record(write(tmp_path, "a.txt", text))
    assert rec.title == "美 상무부, 中 기업 140곳 수출통제"
    assert rec.body == f"{LEAD}\n\n{SECOND}"
    assert rec.metadata["source"] == "뉴스1"
    assert rec.metadata["published_at"] == "2026년 12월 3일"


def test_txt_header_lines_in_english_and_a_body_label(tmp_path):
    text = f"Title: Chips pact\nDate: 2026-10-27 09:00\nURL: https://example.com/a/1\n본문: {LEAD}\n{SECOND}\n"
    rec = one_record(write(tmp_path, "a.txt", text))
    assert (rec.title, rec.metadata["published_at"], rec.metadata["url"]) == (
        "Chips pact", "2026-10-27 09:00", "https://example.com/a/1")
    assert rec.body == f"{LEAD}\n{SECOND}"


def test_txt_lead_with_a_colon_is_text(tmp_path):
    text = f"정부: 공급망 대응 강화\n{LEAD}\n"
    rec = one_record(write(tmp_path, "a.txt", text))
    assert rec.metadata == {} and rec.title is None
    assert rec.body == text.strip("\n")


def test_txt_header_lines_with_no_text_after_them_are_empty(tmp_path):
    rejected = one_rejection(write(tmp_path, "a.txt", "제목: 공급망\n날짜: 2026-10-27\n\n"))
    assert rejected.reason == "empty" and "header lines" in rejected.detail


def test_txt_date_line_with_a_colon_keeps_its_lead(tmp_path):
    rec = one_record(write(tmp_path, "a.txt", f"date: 2025-10-29 {LEAD}\n"))
    assert rec.metadata == {"date": "2025-10-29"}
    assert rec.body == LEAD
