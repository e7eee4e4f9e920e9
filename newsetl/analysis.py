"""Row-level work behind the Python models: clean an article, analyse a batch, cluster events.

Functions here take and return plain rows and frames so that they run the same in this
process, in a worker process or on a Dask worker.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl

from newsetl import clean, dates
from newsetl.entities import Extractor, Mention
from newsetl.events import EventExtractor, load_contexts, load_triggers
from newsetl.gazetteer import cached as cached_gazetteer
from newsetl.nlp import split_sentences

CLEANED_SCHEMA = {
    "article_id": pl.String, "source_path": pl.String, "title": pl.String, "body": pl.String,
    "analysed_text": pl.String, "text_sha": pl.String, "body_sha": pl.String, "publisher": pl.String,
    "publisher_source": pl.String, "published_date": pl.Date, "published_date_source": pl.String,
    "reporters": pl.List(pl.String), "emails": pl.List(pl.String), "removed_lines": pl.Int32,
}
SENTENCE_SCHEMA = {"text_sha": pl.String, "sentence_idx": pl.Int32, "char_start": pl.Int32,
                   "char_end": pl.Int32, "text": pl.String}
MENTION_SCHEMA = {"text_sha": pl.String, "sentence_idx": pl.Int32, "char_start": pl.Int32, "char_end": pl.Int32,
                  "surface": pl.String, "entity_type": pl.String, "entity_key": pl.String,
                  "reference_id": pl.String, "name": pl.String, "method": pl.String}
CANDIDATE_SCHEMA = {
    "article_id": pl.String, "sentence_idx": pl.Int32, "event_type": pl.String, "mode": pl.String,
    "trigger_id": pl.String, "trigger_text": pl.String, "trigger_start": pl.Int32,
    "participants": pl.List(pl.Struct({"entity_key": pl.String, "role": pl.String})),
    "event_date": pl.Date, "date_precision": pl.String, "date_text": pl.String, "status": pl.String,
    "is_background": pl.Boolean, "context": pl.String, "published_date": pl.Date, "evidence": pl.String,
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
    result = clean.clean(row["body"] or "", title_hint=row.get("title") or meta.get("title"))
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


@lru_cache(maxsize=2)
def _extractor(reference_dir: str) -> Extractor:
    return Extractor(cached_gazetteer(reference_dir))


def analyse_batch(batch: list[tuple[str, str]], reference_dir: str) -> tuple[list[tuple], list[tuple]]:
    """Sentences and mentions for (text_sha, text) pairs; runs in any process."""
    extractor = _extractor(reference_dir)
    docs = split_sentences([text for _, text in batch])
    sentences, mentions = [], []
    for (sha, _), doc in zip(batch, docs, strict=True):
        known: dict[str, Mention] = {}
        for idx, sent in enumerate(doc):
            sentences.append((sha, idx, sent.start, sent.end, sent.text))
            for m in extractor.sentence(sent, known):
                mentions.append((sha, idx, m.start, m.end, m.text, m.entity_type, m.key, m.entity_id, m.name,
                                 m.method))
                if m.entity_type == "PERSON":
                    _remember(known, m)
    return sentences, mentions


def _remember(known: dict[str, Mention], person: Mention) -> None:
    """Later mentions of a person use the family name (Korean) or the last name (foreign)."""
    parts = person.name.split()
    known.setdefault(person.name, person)
    if len(parts) > 1:
        known.setdefault(parts[-1], person)
    elif len(person.name) in (3, 4):
        known.setdefault(person.name[0], person)


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


def _parties(participants: list[dict]) -> set[str]:
    return {p["entity_key"] for p in participants if p["role"] in ("actor", "target")}


def _compatible(a: tuple, b: tuple, same_article: bool) -> bool:
    (da, pa), (db, pb) = a, b
    if da is None or db is None:
        return same_article and da is None and db is None
    n = {"year": 4, "month": 7, "day": 10}
    k = min(n.get(pa, 10), n.get(pb, 10))
    return str(da)[:k] == str(db)[:k]


def cluster_events(candidates: pl.DataFrame) -> pl.DataFrame:
    """Give each candidate an event_id; candidates of one real-world event share it."""
    rows = candidates.to_dicts()
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Blocking keeps this near-linear: only candidates of one type that share a party and a
    # month (or a year, or an article when undated) are compared.
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        when = r["event_date"]
        if when is None:
            period = ("article", r["article_id"])
        elif r["date_precision"] == "year":
            period = ("year", when.year)
        else:
            period = ("month", when.year, when.month)
        for party in _parties(r["participants"]):
            blocks[(r["event_type"], party, period)].append(i)
    for members in blocks.values():
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                if find(i) == find(j):
                    continue
                a, b = rows[i], rows[j]
                same_article = a["article_id"] == b["article_id"]
                if _compatible((a["event_date"], a["date_precision"]), (b["event_date"], b["date_precision"]),
                               same_article):
                    parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        groups[find(i)].append(i)
    event_ids = [""] * len(rows)
    for members in groups.values():
        first = min(members, key=lambda i: (rows[i]["article_id"], rows[i]["sentence_idx"], rows[i]["trigger_start"]))
        r = rows[first]
        event_id = "ev_" + _sha(f"{r['event_type']}|{r['article_id']}|{r['sentence_idx']}|{r['trigger_start']}")[:16]
        for i in members:
            event_ids[i] = event_id
    schema = {**CANDIDATE_SCHEMA}
    frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.Series("event_id", event_ids, dtype=pl.String))
