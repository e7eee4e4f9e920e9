"""Event candidates clustered into real-world events: one event however many sentences and articles report it."""

from __future__ import annotations

import hashlib
from collections import defaultdict

import polars as pl

from newsetl.events import CANDIDATE_SCHEMA


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


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
