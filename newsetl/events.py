"""PLOVER event candidates from Korean sentences: triggers, arguments by case particle, dates, status.

A candidate is one event type reported by one clause. Clustering candidates into
real-world events (one row however many reports) happens later, across articles.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl

from newsetl.dates import DateMention, find_dates
from newsetl.entities import Mention

CANDIDATE_SCHEMA = {
    "article_id": pl.String, "sentence_idx": pl.Int32, "event_type": pl.String, "mode": pl.String,
    "trigger_id": pl.String, "trigger_text": pl.String, "trigger_start": pl.Int32,
    "participants": pl.List(pl.Struct({"entity_key": pl.String, "role": pl.String})),
    "event_date": pl.Date, "date_precision": pl.String, "date_text": pl.String, "status": pl.String,
    "is_background": pl.Boolean, "context": pl.String, "published_date": pl.Date, "evidence": pl.String,
}
PARTY_TYPES = frozenset({"COUNTRY", "ORG", "PERSON"})
_CLAUSE_BREAK = re.compile(r"(?:했고|하고|했으며|하며|했지만|지만|면서|으며|고)\s*,\s*|[;]\s*|(?<=다)\.\s+")
_FUTURE = re.compile(r"(?:할|될|을|를|로)\s?(?:예정|계획|방침)|연다|열린다|할 것으로|나설 것|추진한다|오는\s|다음\s?달|내년")
_BACKGROUND = re.compile(r"^\s*앞서|바\s?있다|바\s?있는|했었다|당시")
_NEGATED = re.compile(r"^[^.]{0,12}?(?:않았|않기로|않는다|않을|못했|못한다|없었|없다|무산|불발|아니)")
_HYPOTHETICAL = re.compile(r"^[^.]{0,14}?(?:경우|한다면|하면|할 수도|가능성|검토|거론|여부|우려|관측|전망)")
_NOT_EVENT_BEFORE = re.compile(r"(?:기자들?과|기자회견|취재진과)\s*$")
_ACTOR = re.compile(r"^[)\]』」’”'\"]*\s*(?:은|는|이|가|께서|측은|측이|도)(?![가-힣])")
_JOINT = re.compile(r"^[)\]』」’”'\"]*\s*(?:과|와|및)(?![가-힣])")
_TARGET = re.compile(r"^[)\]』」’”'\"]*\s*(?:에게|에|을|를|로부터|으로부터|에\s?대한|에\s?대해|측에|산)(?![가-힣]{2})")


@dataclass(frozen=True)
class Trigger:
    trigger_id: str
    pattern: re.Pattern
    event_type: str
    mode: str
    strong: bool


@dataclass
class Candidate:
    sentence_idx: int
    event_type: str
    mode: str
    trigger_id: str
    trigger_text: str
    trigger_start: int
    participants: list[tuple[str, str]]  # (entity key, role)
    date: date | None
    precision: str
    date_text: str | None
    status: str  # reported | planned
    background: bool
    context: str | None
    contexts: list[str] = field(default_factory=list)


def load_triggers(reference_dir: Path) -> list[Trigger]:
    with (reference_dir / "event_triggers.csv").open(encoding="utf-8", newline="") as fh:
        return [Trigger(r["trigger_id"], re.compile(r["pattern"]), r["event_type"], r["mode"], r["strength"] == "strong")
                for r in csv.DictReader(fh)]


def load_contexts(reference_dir: Path) -> list[tuple[str, re.Pattern]]:
    with (reference_dir / "event_contexts.csv").open(encoding="utf-8", newline="") as fh:
        return [(r["context"], re.compile(r["pattern"])) for r in csv.DictReader(fh)]


def clauses(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def role_of(text: str, mention: Mention, mentions: list[Mention]) -> str:
    if mention.entity_type == "LOCATION":
        return "location"
    if mention.entity_type in ("COMMODITY", "TECHNOLOGY", "PROGRAM"):
        return "topic"
    after = text[mention.end:mention.end + 8]
    if _ACTOR.match(after):
        return "actor"
    if _JOINT.match(after):
        # 'A와 B는 ...': A shares B's role when B follows as the subject
        later = [m for m in mentions if m.start >= mention.end and m.entity_type in PARTY_TYPES]
        if later and _ACTOR.match(text[later[0].end:later[0].end + 8]):
            return "actor"
        return "target"
    if _TARGET.match(after):
        return "target"
    # a noun phrase head carries the particle: '한·미·일 3개국 산업장관이', '미국 상무부는'
    tail = re.match(r"^[^\s]*\s+[^\s]*?(은|는|이|가|을|를|에|과|와)(?:\s|$)", text[mention.end:mention.end + 20])
    if tail:
        return "actor" if tail.group(1) in ("은", "는", "이", "가") else "target"
    return "actor"


class EventExtractor:
    def __init__(self, triggers: list[Trigger], contexts: list[tuple[str, re.Pattern]]) -> None:
        self.triggers = triggers
        self.contexts = contexts

    def article(self, sentences: list[tuple[int, str, list[Mention]]], published: date | None) -> list[Candidate]:
        """Candidates of one article; sentences in order as (sentence_idx, text, mentions)."""
        out: list[Candidate] = []
        anchor: DateMention | None = None
        for idx, text, mentions in sentences:
            dates = find_dates(text, published, anchor, planned=bool(_FUTURE.search(text)))
            for d in dates:
                if d.date is not None:
                    anchor = d
            out.extend(self.sentence(idx, text, mentions, dates, published))
        return out

    def sentence(self, idx: int, text: str, mentions: list[Mention], dates: list[DateMention],
                 published: date | None) -> list[Candidate]:
        found: list[Candidate] = []
        for c0, c1 in clauses(text):
            clause = text[c0:c1]
            hits = []
            for trig in self.triggers:
                for m in trig.pattern.finditer(clause):
                    start = c0 + m.start()
                    if _NOT_EVENT_BEFORE.search(text[:start]):
                        continue
                    rest = text[c0 + m.end():c1]
                    if _NEGATED.match(rest) or _HYPOTHETICAL.match(rest):
                        continue
                    hits.append((trig, start, m.group()))
                    break
            hits = _suppress(hits)
            if not hits:
                continue
            parties = [m for m in mentions if c0 <= m.start < c1 and m.entity_type in PARTY_TYPES]
            if not parties:
                parties = [m for m in mentions if m.entity_type in PARTY_TYPES]
            if not parties:
                continue
            others = [m for m in mentions if m.entity_type not in PARTY_TYPES and m.entity_type != "DATE"]
            in_clause = [d for d in dates if c0 <= d.start < c1] or dates
            for trig, start, surface in hits:
                when = _nearest(in_clause, start)
                participants = _dedupe([(m.key, role_of(text, m, mentions)) for m in parties + others])
                future = bool(_FUTURE.search(text[c0:c1])) or (
                    when is not None and when.date is not None and published is not None and when.date > published)
                contexts = [name for name, pat in self.contexts if pat.search(text)]
                found.append(Candidate(
                    sentence_idx=idx, event_type=trig.event_type, mode=trig.mode, trigger_id=trig.trigger_id,
                    trigger_text=surface, trigger_start=start, participants=participants,
                    date=when.date if when else None, precision=when.precision if when else "none",
                    date_text=when.text if when else None, status="planned" if future else "reported",
                    background=bool(_BACKGROUND.search(text[c0:c1])), context=contexts[0] if contexts else None,
                    contexts=contexts,
                ))
        return found


def _suppress(hits: list[tuple[Trigger, int, str]]) -> list[tuple[Trigger, int, str]]:
    """One candidate per type per clause; a sanction that is being cut or suspended is a concession."""
    types = {t.event_type for t, _, _ in hits}
    kept, seen = [], set()
    for trig, start, surface in sorted(hits, key=lambda h: (not h[0].strong, h[1])):
        if trig.event_type == "SANCTION" and "CONCEDE" in types:
            continue
        if trig.event_type == "COOPERATE" and "AGREE" in types and trig.mode == "partnership":
            continue
        if trig.event_type in seen or (not trig.strong and len(types) > 1 and trig.event_type == "CONSULT"
                                       and not surface.startswith(("회담", "회의", "만나", "만났", "방문"))):
            continue
        seen.add(trig.event_type)
        kept.append((trig, start, surface))
    return kept


def _nearest(dates: list[DateMention], position: int) -> DateMention | None:
    resolved = [d for d in dates if d.date is not None] or dates
    if not resolved:
        return None
    before = [d for d in resolved if d.start <= position]
    return before[-1] if before else resolved[0]


def _dedupe(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for key, role in pairs:
        if key not in seen or (seen[key] != "actor" and role == "actor"):
            seen[key] = role
    return list(seen.items())


@lru_cache(maxsize=2)
def _event_extractor(reference_dir: str) -> EventExtractor:
    path = Path(reference_dir)
    return EventExtractor(load_triggers(path), load_contexts(path))


def event_candidates(articles: pl.DataFrame, sentences: pl.DataFrame, mentions: pl.DataFrame,
                     reference_dir: str) -> list[tuple]:
    extractor = _event_extractor(reference_dir)
    sent_by_sha: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for sha, idx, text in sentences.iter_rows():
        sent_by_sha[sha].append((idx, text))
    ment_by_key: dict[tuple[str, int], list[Mention]] = defaultdict(list)
    for r in mentions.iter_rows(named=True):
        ment_by_key[(r["text_sha"], r["sentence_idx"])].append(Mention(
            r["char_start"], r["char_end"], r["surface"], r["entity_type"], r["reference_id"], r["name"], r["method"]))
    rows = []
    for article_id, sha, published in articles.iter_rows():
        sents = sorted(sent_by_sha.get(sha, []))
        texts = dict(sents)
        doc = [(idx, text, ment_by_key.get((sha, idx), [])) for idx, text in sents]
        for c in extractor.article(doc, published):
            rows.append((
                article_id, c.sentence_idx, c.event_type, c.mode, c.trigger_id, c.trigger_text, c.trigger_start,
                [{"entity_key": k, "role": r} for k, r in c.participants], c.date, c.precision, c.date_text,
                c.status, c.background, c.context, published, texts[c.sentence_idx],
            ))
    return rows
