"""News page HTML -> article text (one paragraph a line) and page metadata, standard library only.

The article is the `articleBody` element, else a known body container, else `<article>`, else the
block with the most paragraph text. Scripts, navigation, share buttons, related and ranking lists
are left out by tag and by class/id, wherever they sit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Node", "PageText", "extract_page", "html_fragment_to_text", "parse_html", "sniff_charset"]

_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
    "keygen",
}
_BLOCK = {
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "caption",
    "center",
    "body",
    "html",
}
# Start tags that close an open <p> (HTML's implied end tags, the cases pages actually hit).
_CLOSES_P = _BLOCK - {
    "li",
    "dd",
    "dt",
    "td",
    "th",
    "tr",
    "tbody",
    "thead",
    "tfoot",
    "caption",
    "figcaption",
    "summary",
    "body",
    "html",
}
_SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "canvas",
    "nav",
    "aside",
    "form",
    "button",
    "select",
    "option",
    "textarea",
    "input",
    "object",
    "embed",
    "video",
    "audio",
    "head",
    "title",
    "map",
    "dialog",
    "menu",
    "header",
    "footer",
}
# class/id tokens of page chrome. Bylines and copyright lines inside the body are article text
# as received (the cleaner decides about them), so they are not listed here.
_CHROME = re.compile(
    r"(^|[\s_-])(share|sharing|sns|social|related|relation|ranking|rank|popular|most[-_]?(view|read)|"
    r"recommend|comment|comments|reply|banner|advert|ads?|adsense|sponsor|breadcrumbs?|gnb|lnb|snb|"
    r"menu|nav|navbar|toolbar|util|utility|print|font[-_]?size|subscribe|tags?|keyword|"
    r"hidden|sr-only|blind|popup|modal|cookie|login|search|skip)($|[\s_-])",
    re.IGNORECASE,
)
# Containers sites use for the article text, best first.
_BODY_HINTS = re.compile(
    r"^(article[-_]?body|articlebody|article[-_]?view[-_]?content([-_]div)?|article[-_]?txt|article[-_]?text|"
    r"article[-_]?content|news[-_]?body([-_]area)?|news[-_]?content|newsct[-_]?article|dic[-_]?area|"
    r"story[-_]?news|view[-_]?content|view[-_]?con|view[-_]?text|story[-_]?body|entry[-_]?content|"
    r"post[-_]?content|text[-_]?area|news_?view|article_?con|cont[-_]?body|read[-_]?body|content[-_]?body|"
    r"news[-_]?cnt[-_]?detail[-_]?wrap)$",
    re.IGNORECASE,
)
# Inside a fallback root (<article>, <main>): the headline and the date/byline strip above the text.
_HEADER_BITS = re.compile(
    r"(^|[\s_-])(article[-_]?info|info|byline|writer|date|dateline|headline|"
    r"tit|title|subject)($|[\s_-])",
    re.IGNORECASE,
)
_WS = re.compile(r"[ \t\n\r\f]+")
_INPUT_STAMP = re.compile(
    r"(?:입력|등록|게재|작성)\s*[:：]?\s*(\d{4}[.\-/]\s?\d{1,2}[.\-/]\s?\d{1,2}\.?"
    r"(?:\s*(?:오전|오후)?\s*\d{1,2}:\d{2}(?::\d{2})?)?)"
)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False)

    def hints(self) -> str:
        return f"{self.attrs.get('class', '')} {self.attrs.get('id', '')}".strip()

    def iter(self):
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(c for c in reversed(node.children) if isinstance(c, Node))


class _TreeBuilder(HTMLParser):
    """Forgiving tree builder: unknown end tags are ignored, implied ends are applied."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def _open(self, tag: str) -> bool:
        return any(n.tag == tag for n in self.stack)

    def _close(self, tag: str) -> None:
        while len(self.stack) > 1:
            node = self.stack.pop()
            if node.tag == tag:
                return

    def handle_starttag(self, tag, attrs):
        if tag in _CLOSES_P and self._open("p"):
            self._close("p")
        elif tag == "li" and self.stack[-1].tag == "li":
            self._close("li")
        elif tag in ("dt", "dd") and self.stack[-1].tag in ("dt", "dd"):
            self._close(self.stack[-1].tag)
        elif tag == "option" and self.stack[-1].tag == "option":
            self._close("option")
        node = Node(tag, {k: (v or "") for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag):
        if tag == "br":  # '</br>' is read as <br> by browsers
            self.stack[-1].children.append(Node("br", parent=self.stack[-1]))
        elif tag not in _VOID and self._open(tag):
            self._close(tag)

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def sniff_charset(data: bytes) -> str | None:
    """The charset a page declares in its first 4 KiB (<meta charset>, http-equiv, XML declaration)."""
    head = data[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def _skipped(node: Node, header_bits: bool) -> bool:
    if node.tag in _SKIP_TAGS:
        return True
    if node.attrs.get("hidden") is not None or "display:none" in node.attrs.get("style", "").replace(" ", ""):
        return True
    if node.attrs.get("aria-hidden") == "true" or node.attrs.get("role") in ("navigation", "complementary"):
        return True
    hints = node.hints()
    if hints and _CHROME.search(hints):
        return True
    if header_bits and (node.tag in ("h1", "time") or (hints and _HEADER_BITS.search(hints))):
        return True
    return False


def node_lines(node: Node, *, header_bits: bool = False) -> list[str]:
    """Text of a subtree: block ends and <br> are line breaks, other whitespace collapses."""
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = _WS.sub(" ", "".join(current)).strip()
        if line:
            lines.append(line)
        current.clear()

    def walk(n: Node) -> None:
        for child in n.children:
            if isinstance(child, str):
                current.append(child)
                continue
            if child.tag == "br":
                flush()
                continue
            if _skipped(child, header_bits):
                continue
            if child.tag == "img":
                continue
            block = child.tag in _BLOCK
            if block:
                flush()
            walk(child)
            if block:
                flush()

    walk(node)
    flush()
    return lines


def _text_len(node: Node) -> int:
    return sum(len(line) for line in node_lines(node))


def _find_root(doc: Node) -> tuple[Node | None, bool]:
    """The element holding the article text, and whether its header strip must be skipped."""
    nodes = [n for n in doc.iter() if n.tag not in _SKIP_TAGS]
    for n in nodes:
        if n.attrs.get("itemprop", "").lower() == "articlebody" and _text_len(n) > 0:
            return n, False
    for n in nodes:
        for token in n.hints().split():
            if _BODY_HINTS.match(token) and _text_len(n) > 0:
                return n, False
    articles = [n for n in nodes if n.tag == "article" and not _CHROME.search(n.hints())]
    if articles:
        return max(articles, key=_text_len), True
    # Fallback: the element whose own paragraph-level children carry the most text.
    best, best_score = None, 0
    for n in nodes:
        if _skipped(n, False):
            continue
        score = 0
        for c in n.children:
            if isinstance(c, str):
                score += len(c.strip())
            elif c.tag in ("p", "br", "span", "b", "strong", "em", "i", "a", "font") and not _skipped(
                c, False
            ):
                score += sum(len(line) for line in node_lines(c))
        if score > best_score:
            best, best_score = n, score
    return best, True


@dataclass
class PageText:
    body: str
    title: str | None
    metadata: dict


def _meta_tags(doc: Node) -> dict[str, str]:
    found: dict[str, str] = {}
    for n in doc.iter():
        if n.tag == "meta":
            key = (n.attrs.get("property") or n.attrs.get("name") or n.attrs.get("itemprop") or "").lower()
            if key and "content" in n.attrs and key not in found:
                found[key] = n.attrs["content"].strip()
    return found


def _first(doc: Node, pred) -> Node | None:
    return next((n for n in doc.iter() if pred(n)), None)


def extract_page(text: str) -> PageText:
    """Article body (paragraphs as lines), title and metadata of a news page."""
    doc = parse_html(text)
    meta = _meta_tags(doc)
    metadata: dict = {}
    title_node = _first(doc, lambda n: n.tag == "title")
    page_title = (
        _WS.sub(" ", "".join(c for c in title_node.children if isinstance(c, str))).strip()
        if title_node
        else ""
    )
    site = meta.get("og:site_name") or meta.get("twitter:site") or ""
    title = meta.get("og:title") or meta.get("twitter:title") or ""
    if not title and page_title:
        title = page_title
        if site:
            title = re.sub(rf"\s*[-|:·]\s*{re.escape(site)}\s*$", "", title)
    if not title:
        h1 = _first(doc, lambda n: n.tag == "h1")
        title = " ".join(node_lines(h1)) if h1 else ""
    canonical = _first(
        doc, lambda n: n.tag == "link" and "canonical" in n.attrs.get("rel", "").lower().split()
    )
    url = (canonical.attrs.get("href", "").strip() if canonical else "") or meta.get("og:url", "")
    published = (
        meta.get("article:published_time")
        or meta.get("og:article:published_time")
        or meta.get("datepublished")
        or meta.get("pubdate")
        or meta.get("publishdate")
        or meta.get("date")
        or ""
    )
    for key, value in (
        ("title", title),
        ("source", site),
        ("url", url),
        ("published_at", published),
        ("modified_at", meta.get("article:modified_time", "")),
        ("author", meta.get("author") or meta.get("article:author") or meta.get("dable:author", "")),
        ("page_title", page_title if page_title != title else ""),
    ):
        if value:
            metadata[key] = value
    root, header_bits = _find_root(doc)
    lines = node_lines(root, header_bits=header_bits) if root is not None else []
    if lines and title and lines[0] == title:
        lines = lines[1:]
    whole = " ".join(_all_text(doc))  # the stamp often sits in a <header> that the body skips
    stamp = _INPUT_STAMP.search(whole)
    if stamp:
        metadata["published_at_text"] = _WS.sub(" ", stamp.group(1)).strip()
    return PageText(body="\n".join(lines), title=title or None, metadata=metadata)


def _all_text(node: Node) -> list[str]:
    texts: list[str] = []
    stack: list[Node | str] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif item.tag not in ("script", "style", "head", "template", "noscript"):
            stack.extend(reversed(item.children))
    return texts


def html_fragment_to_text(fragment: str) -> str:
    """Text of an HTML fragment (a feed's body field): paragraphs and <br> as lines."""
    return "\n".join(node_lines(parse_html(fragment)))
