"""Reference entities (seeds/reference/*.csv) as a surface-form dictionary for mention matching."""

from __future__ import annotations

import csv
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
        for key in self.surfaces:
            by_char.setdefault(key[0], set()).add(len(key))
        self.lengths = {c: sorted(ls, reverse=True) for c, ls in by_char.items()}

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
