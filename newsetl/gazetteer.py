"""Reference entities (seeds/reference/*.csv) as a surface-form dictionary for mention matching."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ENTITY_FILES = ("countries", "organizations", "people", "locations", "commodities", "technologies", "programs")


@dataclass(frozen=True)
class Entry:
    entity_id: str
    name: str
    entity_type: str
    name_en: str = ""
    country: str = ""  # ISO2 of the country an organization or person belongs to
    title: str = ""


@dataclass
class Gazetteer:
    entries: dict[str, Entry] = field(default_factory=dict)  # entity_id -> entry
    surfaces: dict[str, str] = field(default_factory=dict)  # folded surface -> entity_id
    lengths: dict[str, list[int]] = field(default_factory=dict)  # first char -> surface lengths, longest first
    lengths2: dict[str, list[int]] = field(default_factory=dict)  # first two chars (or the one) -> lengths
    abbrev: dict[str, str] = field(default_factory=dict)  # compound syllable (한, 미, 일) -> country id
    by_iso2: dict[str, str] = field(default_factory=dict)

    def add(self, entry: Entry, surfaces: list[str]) -> None:
        self.entries[entry.entity_id] = entry
        for surface in surfaces:
            key = fold(surface.strip())
            if len(key) < 1 or key in self.surfaces:
                continue  # first file wins: a country keeps '미국' even if an org lists it
            self.surfaces[key] = entry.entity_id
        self.lengths = {}

    def index(self) -> None:
        by_char: dict[str, set[int]] = {}
        by_pair: dict[str, set[int]] = {}
        for key in self.surfaces:
            by_char.setdefault(key[0], set()).add(len(key))
            # by the first two characters: far fewer lengths to try at each position than by the first one
            by_pair.setdefault(key[:2], set()).add(len(key))
        self.lengths = {c: sorted(ls, reverse=True) for c, ls in by_char.items()}
        self.lengths2 = {p: sorted(ls, reverse=True) for p, ls in by_pair.items()}

    def lookup(self, surface: str) -> Entry | None:
        entity_id = self.surfaces.get(fold(surface))
        return self.entries[entity_id] if entity_id else None

    def person_names(self) -> set[str]:
        return {e.name for e in self.entries.values() if e.entity_type == "PERSON"}


def fold(text: str) -> str:
    """Case-fold Latin letters only, keeping the length (offsets stay valid)."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in text)


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load(reference_dir: Path) -> Gazetteer:
    gaz = Gazetteer()
    for stem in ENTITY_FILES:
        path = reference_dir / f"{stem}.csv"
        if not path.exists():
            continue
        for row in _rows(path):
            entry = Entry(
                entity_id=row["entity_id"], name=row["name"], entity_type=row["entity_type"].upper(),
                name_en=row.get("name_en") or "", country=row.get("country") or row.get("iso2") or "",
                title=row.get("title") or "",
            )
            aliases = [a for a in (row.get("aliases") or "").split("|") if a.strip()]
            gaz.add(entry, [row["name"], *aliases])
            if stem == "countries":
                if row.get("abbrev"):
                    gaz.abbrev.setdefault(row["abbrev"].strip(), entry.entity_id)
                if row.get("iso2"):
                    gaz.by_iso2[row["iso2"]] = entry.entity_id
    gaz.index()
    return gaz


@lru_cache(maxsize=4)
def cached(reference_dir: str) -> Gazetteer:
    return load(Path(reference_dir))


# -- curation: discovered names for review, and promotion into the reference CSVs -------------
SEED_FOR_TYPE = {"ORG": "organizations", "PERSON": "people", "LOCATION": "locations", "COMMODITY": "commodities",
                 "TECHNOLOGY": "technologies", "PROGRAM": "programs"}
ID_PREFIX = {"organizations": "org", "people": "person", "locations": "loc", "commodities": "commodity",
             "technologies": "tech", "programs": "program"}


class CurationError(ValueError):
    """A promotion that would make the reference data wrong (unknown type, a name already listed)."""


def discovered(con, min_articles: int = 1, limit: int = 50) -> list[dict]:
    """Discovered names (not in the reference data) with counts and the words around one mention, most reported first."""
    rows = con.execute("""
        with examples as (
            select m.entity_id, any_value({'text': s.text, 'surface': m.surface}) as example
            from marts.fct_entity_mention m
            join intermediate.int_articles__deduplicated a on a.article_id = m.article_id
            join intermediate.int_sentences s on s.text_sha = a.text_sha and s.sentence_idx = m.sentence_idx
            group by m.entity_id
        )
        select e.entity_id, e.name, e.entity_type, e.article_count, e.mention_count, e.first_seen, e.last_seen,
               examples.example
        from marts.dim_entity e left join examples using (entity_id)
        where e.discovered and e.article_count >= ?
        order by e.article_count desc, e.mention_count desc, e.name
        limit ?
    """, [min_articles, limit]).fetchall()
    keys = ("entity_id", "name", "entity_type", "article_count", "mention_count", "first_seen", "last_seen", "example")
    out = [dict(zip(keys, r, strict=True)) for r in rows]
    for row in out:
        row["example"] = around(row["example"]["text"], row["example"]["surface"]) if row["example"] else None
    return out


def around(sentence: str, surface: str, width: int = 30) -> str:
    """The words of a sentence around a name in it, '…' where the sentence goes on."""
    at = sentence.find(surface)
    if at < 0:
        return sentence if len(sentence) <= 2 * width else sentence[:2 * width] + "…"
    lo, hi = max(0, at - width), min(len(sentence), at + len(surface) + width)
    lo = sentence.rfind(" ", 0, lo) + 1 if lo else 0  # whole words
    hi = len(sentence) if (space := sentence.find(" ", hi)) < 0 else space
    return ("…" if lo else "") + sentence[lo:hi].strip() + ("…" if hi < len(sentence) else "")


def promote(reference_dir: Path, name: str, entity_type: str, name_en: str = "", aliases: list[str] | None = None,
            extra: dict[str, str] | None = None) -> dict[str, str]:
    """Append a reference row for a discovered name to the right seeds/reference CSV (kept sorted by id)."""
    etype = entity_type.upper()
    if etype == "COUNTRY":
        raise CurationError("countries come from babel/pycountry: edit scripts/build_countries.py and rerun it")
    stem = SEED_FOR_TYPE.get(etype)
    if not stem:
        raise CurationError(f"unknown type {entity_type!r}: use one of {', '.join(SEED_FOR_TYPE)}")
    name = name.strip()
    if not name:
        raise CurationError("the name is empty")
    existing = load(reference_dir)
    for surface in [name, *(aliases or [])]:
        if existing.lookup(surface):
            owner = existing.lookup(surface)
            raise CurationError(f"{surface!r} already names {owner.entity_id} ({owner.name})")
    path = reference_dir / f"{stem}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    slug = re.sub(r"[^a-z0-9]+", "_", (name_en or "").lower()).strip("_")
    if not slug:
        slug = "x" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]  # no English name yet: a stable id
    entity_id = f"{ID_PREFIX[stem]}:{slug}"
    if any(r["entity_id"] == entity_id for r in rows):
        raise CurationError(f"{entity_id} exists already in {path.name}: give another --name-en")
    row = dict.fromkeys(header, "")
    row.update({"entity_id": entity_id, "name": name, "name_en": name_en or name, "entity_type": etype,
                "aliases": "|".join(a for a in (aliases or []) if a and a != name)})
    for key, value in (extra or {}).items():
        if key not in header:
            raise CurationError(f"{path.name} has no column {key!r}")
        row[key] = value or ""
    rows.append(row)
    rows.sort(key=lambda r: r["entity_id"])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    cached.cache_clear()
    return row
