"""Score a warehouse's events against the gold of a generated corpus (../shared/corpus/make_corpus.py).

    uv run python bench/score_corpus_events.py --db /tmp/evc/newsetl.duckdb --corpus /tmp/evc [--json]

Reads only public tables (raw.articles, marts.dim_article, dim_entity, fct_event, fct_event_mention,
fct_event_participant). Per gold article, a predicted event (one with a mention in that article, or in the
article it is marked duplicate_of when the warehouse found the same body twice) matches a gold event of the
same type that shares an actor/target entity, one to one, as ../shared/eval/score_seeds.py does; pairs
sharing most names go first, then those agreeing on mode and date. Dates are scored on matched events at
the gold precision; where the article's file reveals no publication date (manifest meta.published_date
null) a relative date expression is right undated or with its true date, as score_seeds treats
needs_publication_date. Clustering: a near-duplicate article's events must be the very events of its
source article, and no event may absorb two gold events.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# gold modes that the pipeline spells differently
MODE_ALIASES = {"raise": "tariff_raise", "cut": "tariff_cut"}
_ABSOLUTE_DATE = re.compile(r"^\d{4}(?:년|\.)")


def norm(s: object) -> str:
    return "".join(str(s).split()).lower() if s is not None else ""


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "tp": tp, "fp": fp, "fn": fn}


def needs_publication_date(date_text: str | None) -> bool:
    """Whether resolving the expression takes the publication date ('29일', '지난달', '10월 3일' ...)."""
    return bool(date_text) and not _ABSOLUTE_DATE.match(date_text.strip())


def date_agrees(pred_date: object, gold_date: str | None, gold_precision: str | None) -> bool:
    if gold_precision in (None, "none") or gold_date is None:
        return pred_date is None
    if pred_date is None:
        return False
    n = {"year": 4, "month": 7, "day": 10}[gold_precision]
    return str(pred_date)[:n] == gold_date[:n]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def load_corpus(corpus: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """Gold records by id and manifest entries by relative path."""
    with (corpus / "gold.jsonl").open(encoding="utf-8") as fh:
        gold = {rec["id"]: rec for rec in map(json.loads, fh)}
    with (corpus / "manifest.jsonl").open(encoding="utf-8") as fh:
        manifest = {rec["path"]: rec for rec in map(json.loads, fh)}
    return gold, manifest


def map_articles(con: duckdb.DuckDBPyConnection, corpus: Path, gold: dict, manifest: dict) -> dict[str, tuple[str, dict]]:
    """article_id -> (gold id, manifest entry of its file), through source_id or source_path + record."""
    root = str(corpus.resolve())
    out = {}
    for r in _rows(con, """
            select a.article_id, a.source_path, a.source_id, r.source_record
            from marts.dim_article as a left join raw.articles as r using (article_id)"""):
        path = str(Path(r["source_path"]).resolve())
        rel = path[len(root) + 1:] if path.startswith(root + "/") else path
        entry = manifest.get(rel)
        gid = r["source_id"] if r["source_id"] in gold else None
        if gid is None and entry and entry.get("articles"):
            ids = entry["articles"]
            index = (r["source_record"] or 1) - 1 if len(ids) > 1 else 0
            gid = ids[index] if 0 <= index < len(ids) else None
        if gid is not None:
            out[r["article_id"]] = (gid, entry or {})
    return out


def _entity_keys(row: dict) -> set[str]:
    keys = {norm(row["name"]), norm(row.get("name_en"))} | {norm(a) for a in row.get("aliases") or []}
    keys.discard("")
    return keys


def _gold_entity_names(rec: dict) -> list[tuple[str, set[str], str]]:
    return [(g["name"], ({norm(g["name"])} | {norm(s) for s in g.get("surfaces", [])}) - {""}, g["type"])
            for g in rec.get("entities", [])]


def _canonical(gold: dict, gid: str, gi: int) -> tuple[str, int]:
    """A near-duplicate's copy of a source event is the source's event (one real-world event)."""
    src = gold[gid].get("near_duplicate_of")
    if src in gold:
        sentence = gold[gid]["events"][gi]["sentence"]
        for si, g in enumerate(gold[src].get("events", [])):
            if g["sentence"] == sentence:
                return src, si
    return gid, gi


@dataclass
class Outcome:
    """One predicted event read against one gold article: the gold event index it matched, or None."""

    gold_id: str
    event_id: str
    gold_index: int | None


@dataclass
class Matching:
    gold: dict[str, dict]
    events: dict[str, dict]  # event_id -> fct_event row
    outcomes: list[Outcome] = field(default_factory=list)
    missed: list[tuple[str, int]] = field(default_factory=list)  # (gold id, gold event index)
    undated_file: dict[str, bool] = field(default_factory=dict)
    articles_mapped: int = 0


def match(db: str | Path, corpus: str | Path) -> Matching:
    """Predicted events matched to gold events, article by article (best pairs first, one to one)."""
    corpus = Path(corpus)
    gold, manifest = load_corpus(corpus)
    con = duckdb.connect(str(db), read_only=True)
    try:
        mapped = map_articles(con, corpus, gold, manifest)
        duplicate_of = dict(con.execute(
            "select article_id, duplicate_of from marts.dim_article where duplicate_of is not null").fetchall())
        entities = {r["entity_id"]: r for r in _rows(con, "select entity_id, name, name_en, entity_type, aliases from marts.dim_entity")}
        mentions = _rows(con, """
            select m.event_id, m.article_id, min(m.sentence_idx) as sentence_idx
            from marts.fct_event_mention as m group by all""")
        events = {r["event_id"]: r for r in _rows(con, "select * from marts.fct_event")}
        participants: dict[str, set[str]] = defaultdict(set)
        for r in _rows(con, "select event_id, entity_id from marts.fct_event_participant where role in ('actor', 'target')"):
            participants[r["event_id"]].add(r["entity_id"])
    finally:
        con.close()

    # an article the warehouse holds as a duplicate (same cleaned body) reports what its original reports
    readers: dict[str, list[str]] = defaultdict(list)  # article whose mentions count -> gold ids reading them
    for article_id, (gid, _) in mapped.items():
        root, hops = article_id, 0
        while root in duplicate_of and hops < 50:  # a re-post of a re-post
            root, hops = duplicate_of[root], hops + 1
        readers[root].append(gid)
    by_gold: dict[str, dict[str, int]] = defaultdict(dict)  # gold id -> event_id -> first sentence
    for m in mentions:
        for gid in dict.fromkeys(readers.get(m["article_id"], ())):
            seen = by_gold[gid].get(m["event_id"])
            by_gold[gid][m["event_id"]] = m["sentence_idx"] if seen is None else min(seen, m["sentence_idx"])
    result = Matching(gold=gold, events=events, articles_mapped=len({gid for gid, _ in mapped.values()}))
    for gid, entry in mapped.values():
        if entry.get("kind") in ("article", "near_duplicate") and "published_date" in (entry.get("meta") or {}):
            result.undated_file[gid] = entry["meta"]["published_date"] is None

    for gid, rec in gold.items():
        names = _gold_entity_names(rec)
        gevents = rec.get("events", [])
        preds = sorted(by_gold.get(gid, {}).items(), key=lambda kv: (kv[1], kv[0]))
        pairs = []
        for order, (event_id, _) in enumerate(preds):
            ev = events[event_id]
            pnames = set()
            for entity_id in participants.get(event_id, ()):
                e = entities.get(entity_id)
                if e is not None:
                    keys = _entity_keys(e)
                    pnames |= {n for n, gk, gt in names if gt == (e["entity_type"] or "").upper() and keys & gk}
            for gi, g in enumerate(gevents):
                shared = len(pnames & set(g["actors"] + ([g["target"]] if g.get("target") else [])))
                if g["type"] == ev["event_type"] and shared:
                    # most shared names; among equals, the gold event of the same kind and date
                    rank = (shared, ev["mode"] == MODE_ALIASES.get(g["mode"], g["mode"]),
                            date_agrees(ev["event_date"], g.get("date"), g.get("date_precision")))
                    pairs.append((rank, -order, -gi, event_id, gi))
        taken: dict[str, int] = {}
        used: set[int] = set()
        for _, _, _, event_id, gi in sorted(pairs, reverse=True):  # best pairs first, one to one
            if event_id not in taken and gi not in used:
                taken[event_id] = gi
                used.add(gi)
        result.outcomes.extend(Outcome(gid, event_id, taken.get(event_id)) for event_id, _ in preds)
        result.missed.extend((gid, gi) for gi in range(len(gevents)) if gi not in used)
    return result


def score(db: str | Path, corpus: str | Path) -> dict:
    """Precision, recall, F1, dates, status, mode and clustering figures of a warehouse on a corpus."""
    m = match(db, corpus)
    gold, events = m.gold, m.events
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    date_ok = status_ok = mode_ok = 0
    matched: dict[tuple[str, int], str] = {}  # (gold id, gold event index) -> predicted event_id
    for o in m.outcomes:
        ev = events[o.event_id]
        if o.gold_index is None:
            per_type[ev["event_type"]][1] += 1
            continue
        g = gold[o.gold_id]["events"][o.gold_index]
        per_type[g["type"]][0] += 1
        matched[(o.gold_id, o.gold_index)] = o.event_id
        if m.undated_file.get(o.gold_id) and needs_publication_date(g.get("date_text")) and ev["event_date"] is None:
            date_ok += 1
        else:
            date_ok += date_agrees(ev["event_date"], g.get("date"), g.get("date_precision"))
        status_ok += ev.get("status") == g.get("status")
        mode_ok += ev.get("mode") == MODE_ALIASES.get(g.get("mode"), g.get("mode"))
    for gid, gi in m.missed:
        per_type[gold[gid]["events"][gi]["type"]][2] += 1
    tp, fp, fn = len(matched), sum(v[1] for v in per_type.values()), len(m.missed)
    n = len(matched)

    # one real-world event, one row: near-duplicates share their source's events; nothing absorbs two gold events
    near_total = near_same = 0
    for gid, rec in gold.items():
        src = rec.get("near_duplicate_of")
        if not src or src not in gold:
            continue
        src_index = {g["sentence"]: i for i, g in enumerate(gold[src].get("events", []))}
        for gi, g in enumerate(rec.get("events", [])):
            si = src_index.get(g["sentence"])
            if si is None:
                continue
            near_total += 1
            near_same += matched.get((gid, gi)) is not None and matched.get((gid, gi)) == matched.get((src, si))
    owners: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for (gid, gi), event_id in matched.items():
        owners[event_id].add(_canonical(gold, gid, gi))
    distinct_gold = len({_canonical(gold, gid, gi) for gid, rec in gold.items() for gi in range(len(rec.get("events", [])))})
    return {
        "articles": len(gold),
        "articles_mapped": m.articles_mapped,
        "events": prf(tp, fp, fn),
        "event_dates_right": f"{date_ok}/{n}",
        "event_dates_right_share": round(date_ok / n, 3) if n else 0.0,
        "status_right_share": round(status_ok / n, 3) if n else 0.0,
        "mode_right_share": round(mode_ok / n, 3) if n else 0.0,
        "per_type": {t: prf(*v) for t, v in sorted(per_type.items())},
        "clusters": {
            "gold_events_distinct": distinct_gold,
            "predicted_events_matched": len(owners),
            "near_duplicate_events": near_total,
            "near_duplicate_events_same_cluster": near_same,
            "events_absorbing_several_gold_events": sum(1 for o in owners.values() if len(o) > 1),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--corpus", required=True, help="the make_corpus.py output folder (gold.jsonl, manifest.jsonl)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args()
    result = score(a.db, a.corpus)
    if a.json:
        json.dump(result, sys.stdout, ensure_ascii=False)
        print()
        return
    e, c = result["events"], result["clusters"]
    for t, v in result["per_type"].items():
        print(f"  {t:<10} P {v['precision']:.3f} R {v['recall']:.3f} F1 {v['f1']:.3f}  (tp {v['tp']} fp {v['fp']} fn {v['fn']})")
    print(f"articles {result['articles_mapped']}/{result['articles']} mapped")
    print(f"events P {e['precision']} R {e['recall']} F1 {e['f1']} (tp {e['tp']} fp {e['fp']} fn {e['fn']})")
    print(f"event dates right: {result['event_dates_right']} ({result['event_dates_right_share']}); "
          f"status right {result['status_right_share']}; mode right {result['mode_right_share']}")
    print(f"clusters: {c['predicted_events_matched']} predicted events for {c['gold_events_distinct']} distinct gold events; "
          f"near-duplicate copies in their source's event {c['near_duplicate_events_same_cluster']}/{c['near_duplicate_events']}; "
          f"events absorbing several gold events {c['events_absorbing_several_gold_events']}")


if __name__ == "__main__":
    main()
