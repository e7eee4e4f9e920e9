"""Ingest and cleaning at corpus scale: every file accounted for, duplicates found, gold text intact.

Usage (from the project root):
    uv run python bench/ingest_accounting.py --articles 5000 [--seed 1] [--workdir /tmp/newsetl-ingest]
    uv run python bench/ingest_accounting.py --corpus /tmp/c          (an existing make_corpus.py output)

Generates a corpus with ../shared/corpus/make_corpus.py --faults (unless --corpus is given), runs
ingest and the cleaning and deduplication models into a fresh warehouse (not the whole flow: no
language analysis), then compares the warehouse with the corpus' manifest.jsonl and gold.jsonl:
files accounted for (articles, or quarantine rows where the manifest expects them), precision
and recall of exact and near-duplicate detection (pairs of articles), event sentences kept intact,
and title, publisher and publication-date accuracy. tests/test_corpus_ingest.py runs the same
scoring on a small corpus.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
MAKE_CORPUS = ROOT.parent / "shared" / "corpus" / "make_corpus.py"
MODELS = "+marts.dim_article"  # ingest's tables and everything dim_article is built from


def generate(out: Path, articles: int, seed: int) -> Path:
    """A corpus with faults in `out` (reused when it was made with the same arguments)."""
    summary = out / "summary.json"
    if summary.exists():
        made = json.loads(summary.read_text(encoding="utf-8"))
        if (made.get("articles"), made.get("seed"), made.get("faults")) == (articles, seed, True):
            return out
        shutil.rmtree(out)
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(out), "--articles", str(articles), "--seed", str(seed),
                    "--faults"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def build(corpus: Path, db: Path) -> dict[str, float]:
    """Ingest corpus/raw into a fresh warehouse and build the models up to marts.dim_article; seconds per step."""
    from newsetl import warehouse
    from newsetl.config import Settings
    from newsetl.ingest import ingest
    from newsetl.models import load_graph
    from newsetl.runner import ModelContext
    from newsetl.runner import build as build_models

    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    settings = Settings().with_(db=db, sources=(corpus / "raw",))
    seconds: dict[str, float] = {}
    with warehouse.connect(db) as con:
        warehouse.ensure_schema(con)
        started = time.perf_counter()
        stats = ingest(con, settings, "bench")
        seconds["ingest"] = time.perf_counter() - started
        graph = load_graph(settings.sql_dir, settings.reference_dir)
        ctx = ModelContext(con=con, settings=settings, run_id="bench")
        for result in build_models(ctx, graph, graph.select([MODELS])):
            if result.status not in ("success", "unchanged"):
                raise SystemExit(f"model {result.model} failed: {result.error}")
            if graph.models[result.model].kind not in ("source", "seed"):
                seconds[result.model] = result.seconds
    seconds["files"] = stats.files_seen
    return seconds


def _ratio(hit: int, total: int) -> float | None:
    return round(hit / total, 4) if total else None


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for members in groups.values() for p in combinations(members, 2)}


def _pr(predicted: set, gold: set) -> dict:
    hit = len(predicted & gold)
    return {"pairs_gold": len(gold), "pairs_found": len(predicted), "precision": _ratio(hit, len(predicted)),
            "recall": _ratio(hit, len(gold))}


def _root(article: str, parent: dict[str, str | None], kinds: set[str], kind: dict[str, str | None]) -> str:
    seen = set()
    while parent.get(article) and kind.get(article) in kinds and article not in seen:
        seen.add(article)
        article = parent[article]
    return article


def score(con: duckdb.DuckDBPyConnection, corpus: Path) -> dict:
    """The figures of a warehouse built from `corpus` (see the module docstring)."""
    manifest = {e["path"]: e for e in map(json.loads, (corpus / "manifest.jsonl").open(encoding="utf-8"))}
    gold = {g["id"]: g for g in map(json.loads, (corpus / "gold.jsonl").open(encoding="utf-8"))}
    root = str((corpus / "raw").resolve().parent)

    def rel(path: str) -> str:
        return str(Path(path).relative_to(root))

    raw = con.execute("""select article_id, source_path, source_record, json_extract_string(metadata, '$.id')
                         from raw.articles""").fetchall()
    quarantine = con.execute("select source_path, source_record, reason from raw.quarantine").fetchall()
    articles_by_file: dict[str, list[tuple]] = defaultdict(list)
    gold_of: dict[str, str] = {}
    shows_title: dict[str, bool] = {}  # whether the article's file states its title at all
    for article_id, path, record, source_id in raw:
        entry = manifest.get(rel(path))
        articles_by_file[rel(path)].append((record, source_id))
        if entry and entry["articles"]:
            gold_of[article_id] = source_id if entry["format"] == "jsonl" else entry["articles"][0]
            shows_title[article_id] = entry.get("meta", {}).get("title", True)
    quarantined_by_file: dict[str, list[tuple]] = defaultdict(list)
    for path, record, reason in quarantine:
        quarantined_by_file[rel(path)].append((record, reason))

    # -- accounting: every file as the manifest expects it
    problems: list[str] = []
    reasons: Counter = Counter()
    for path, entry in manifest.items():
        got = articles_by_file.get(path, [])
        rejected = quarantined_by_file.get(path, [])
        reasons.update(reason for _, reason in rejected)
        if entry.get("expected") == "quarantine":
            ok = not got and rejected
        elif entry["format"] == "jsonl":
            bad = {line - 1 for line in entry.get("bad_lines", [])}
            ok = (sorted(i for _, i in got) == sorted(entry["articles"])
                  and {r for r, _ in rejected} == bad)
        else:
            ok = len(got) == 1 and not rejected
        if not ok:
            problems.append(f"{path} ({entry.get('fault') or entry['kind']}): {len(got)} articles, "
                            f"quarantine {sorted(r for _, r in rejected)}")
    unknown = sorted((set(articles_by_file) | set(quarantined_by_file)) - set(manifest))

    # -- duplicates: pairs of current articles, exact (same gold copy) and near (same story, other copy)
    rows = con.execute("""select article_id, duplicate_of, duplicate_kind, title, publisher, published_date,
                                 published_date_source, body from marts.dim_article""").fetchall()
    parent = {r[0]: r[1] for r in rows}
    kind = {r[0]: r[2] for r in rows}
    story = {a: gold[g].get("near_duplicate_of", g) for a, g in gold_of.items() if a in parent}
    by_copy, by_story, by_exact, by_any = (defaultdict(list) for _ in range(4))
    for article in story:
        by_copy[gold_of[article]].append(article)
        by_story[story[article]].append(article)
        by_exact[_root(article, parent, {"exact"}, kind)].append(article)
        by_any[_root(article, parent, {"exact", "near"}, kind)].append(article)
    gold_exact, found_exact = _pairs(by_copy), _pairs(by_exact)
    gold_near, found_near = _pairs(by_story) - gold_exact, _pairs(by_any) - found_exact
    canonical_per_story = Counter(story[a] for a in story if parent[a] is None)

    # -- cleaning: against gold, on every current article
    events = events_intact = 0
    titles = Counter()
    publishers = Counter()
    dates = Counter()
    for article_id, _, _, title, publisher, published, date_source, body in rows:
        if article_id not in gold_of:
            continue
        g = gold[gold_of[article_id]]
        lines = body.split("\n")
        for event in g["events"]:
            events += 1
            sentence = event["sentence"]
            events_intact += any(ln.startswith(sentence) or f" {sentence}" in ln for ln in lines)
        if shows_title[article_id]:
            titles["right" if title == g["title"] else "missing" if not title else "wrong"] += 1
        else:
            titles["not in file"] += 1
            titles["made up"] += bool(title)
        publishers["right" if publisher == g["publisher"] else "missing" if not publisher else "wrong"] += 1
        if published is None:
            dates["missing"] += 1
        else:
            dates["right" if published.isoformat() == g["published_date"] else "wrong"] += 1
            dates[f"from {date_source}"] += 1
    n = sum(1 for a in parent if a in gold_of)
    kinds = Counter(entry["kind"] for entry in manifest.values())
    return {
        "files": {"in_manifest": len(manifest), "accounted": len(manifest) - len(problems),
                  "problems": problems[:20], "unknown": unknown[:20]},
        "rows": {"raw_articles": len(raw), "quarantine": len(quarantine), "dim_article": len(rows),
                 "quarantine_reasons": dict(sorted(reasons.items()))},
        "duplicates": {
            "exact": _pr(found_exact, gold_exact), "near": _pr(found_near, gold_near),
            "flagged": dict(Counter(k for k in kind.values() if k)),
            "expected_flagged": {"exact": kinds["duplicate"], "near": kinds["near_duplicate"]},
            "stories_with_two_originals": sum(1 for c in canonical_per_story.values() if c > 1),
        },
        "cleaning": {
            "articles": n, "event_sentences": events, "event_sentences_intact": _ratio(events_intact, events),
            "title_right": _ratio(titles["right"], n - titles["not in file"]), "title_wrong": titles["wrong"],
            "title_missing": titles["missing"], "title_made_up": titles["made up"],
            "publisher_right": _ratio(publishers["right"], n), "publisher_wrong": publishers["wrong"],
            "publisher_missing": publishers["missing"],
            "date_right": _ratio(dates["right"], n), "date_wrong": dates["wrong"], "date_missing": dates["missing"],
            "date_sources": {k[5:]: v for k, v in sorted(dates.items()) if k.startswith("from ")},
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, help="an existing corpus (make_corpus.py output, with --faults)")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsetl-ingest"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    corpus = args.corpus or generate(args.workdir / f"corpus-{args.articles}-s{args.seed}", args.articles, args.seed)
    generated = time.perf_counter() - started
    db = args.workdir / f"ingest-{corpus.name}.duckdb"
    seconds = build(corpus, db)
    with duckdb.connect(str(db), read_only=True) as con:
        figures = score(con, corpus)
    figures["seconds"] = {"corpus": round(generated, 1), **{k: round(v, 2) for k, v in seconds.items()}}
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
        return
    print(f"corpus {corpus}  warehouse {db}")
    for section, values in figures.items():
        print(f"\n[{section}]")
        for key, value in values.items():
            print(f"  {key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value}")


if __name__ == "__main__":
    main()
