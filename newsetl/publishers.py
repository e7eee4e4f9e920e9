"""Known news outlets (seeds/reference/publishers.csv): canonical names by alias, e-mail or URL domain."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

_LETTER = "A-Za-z가-힣"


_SUFFIXES = ("co.kr", "or.kr", "ne.kr", "go.kr", "com", "net", "org", "kr")


def _label(domain: str) -> str:
    """The outlet's own label of a domain: 'news.mt.co.kr' -> 'mt'."""
    host = domain.strip().lower()
    for suffix in _SUFFIXES:
        if host.endswith("." + suffix):
            host = host[: -len(suffix) - 1]
            break
    return host.rsplit(".", 1)[-1]


def _fold(name: str) -> str:
    return "".join(name.split()).lower()


@dataclass
class Publishers:
    """Lookup of outlet names; an empty index (no seed) answers None and leaves names as given."""

    by_name: dict[str, str] = field(default_factory=dict)  # folded name or alias -> canonical name
    by_domain: dict[str, str] = field(default_factory=dict)  # registrable host -> canonical name
    by_label: dict[str, str] = field(default_factory=dict)  # 'hankookilbo' (of hankookilbo.com) -> name
    _aliases: list[str] = field(default_factory=list)  # regex per alias, inner spaces optional
    _pattern: re.Pattern[str] | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[dict]) -> Publishers:
        index = cls()
        for row in rows:
            name = (row.get("name") or "").strip()
            if not name:
                continue
            for alias in [name, *(row.get("aliases") or "").split("|")]:
                if alias.strip():
                    index.by_name.setdefault(_fold(alias), name)
                    index._aliases.append(r"\s*".join(re.escape(w) for w in alias.split()))
            for domain in (row.get("domains") or "").split("|"):
                if domain.strip():
                    index.by_domain[domain.strip().lower()] = name
                    index.by_label.setdefault(_label(domain), name)
        return index

    @classmethod
    def from_csv(cls, path: Path) -> Publishers:
        if not path.exists():
            return cls()
        with path.open(encoding="utf-8", newline="") as fh:
            return cls.from_rows(csv.DictReader(fh))

    def canonical(self, name: str | None) -> str | None:
        """The outlet's canonical name for a name or alias; an unknown name comes back as given."""
        if not name or not name.strip():
            return None
        return self.by_name.get(_fold(name), name.strip())

    def known(self, name: str | None) -> str | None:
        return self.by_name.get(_fold(name)) if name else None

    def in_text(self, text: str) -> str | None:
        """The first known outlet named in a short line (a copyright or byline line), longest name first.

        A name glued to a preceding letter does not count: '유럽연합' does not name 연합.
        """
        if not self.by_name:
            return None
        if self._pattern is None:
            self._pattern = re.compile(
                rf"(?<![{_LETTER}])(?:{'|'.join(sorted(self._aliases, key=len, reverse=True))})(?![A-Za-z])", re.I)
        match = self._pattern.search(text)
        return self.by_name.get(_fold(match.group(0))) if match else None

    def from_domain(self, host: str | None) -> str | None:
        """The outlet of an e-mail or URL host: 'news.mt.co.kr' -> 머니투데이 (longest known suffix)."""
        if not host:
            return None
        host = host.lower().strip().strip(".")
        parts = host.split(".")
        for i in range(len(parts) - 1):
            name = self.by_domain.get(".".join(parts[i:]))
            if name:
                return name
        return None

    def from_url(self, url: str | None) -> str | None:
        if not url or "." not in url:
            return None
        try:
            host = urlsplit(url if "//" in url else "//" + url).hostname
        except ValueError:
            return None
        return self.from_domain(host)

    def from_path(self, path: str | None) -> str | None:
        """The outlet a file's name or folders name: 'yna_20251029_01.txt' (its code before a number), '…/연합뉴스/…'.

        Scrapers file articles by outlet; only an outlet code leading the name or a whole folder name counts.
        """
        if not path:
            return None
        parts = re.split(r"[\\/]", path)
        code = re.match(r"([a-z][a-z0-9]*)[_\-](?=\d)", parts[-1].lower())  # 'yna_2025…', not 'seoul_food'
        if code and code.group(1) in self.by_label:
            return self.by_label[code.group(1)]
        for folder in reversed(parts[:-1]):
            if name := self.known(folder):
                return name
        return None
