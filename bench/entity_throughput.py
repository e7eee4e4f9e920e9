"""Entity extraction against kiwipiepy alone: throughput on the same texts and cores, and accuracy on corpus gold.

Usage (from the project root; generates the corpus when it is missing):
    uv run python bench/entity_throughput.py [--corpus /tmp/ner_c] [--articles 2000] [--limit 400]

Throughput: chars/s of `analysis.analyse_batch` (sentences, gazetteer, CRF, people and roles) against
`Kiwi().tokenize(list_of_bodies)` (kiwi's own thread pool, the same cores) on the bodies of the
corpus's .jsonl articles; the ratio is the figure issue #4 asks to keep at 0.6 or more.
Accuracy: per article, the set of distinct entities found in title + body against gold.jsonl's
entities (matched by canonical name or surface, type equal, as ../shared/eval/score_seeds.py does).
The corpus's KLUE filler sentences name people, places and organizations gold does not list, so three
precisions: over all entities (a lower bound), over reference-linked ones, and over entities the corpus
lexicon knows (filler naming a lexicon entity is left out of the corpus, so every one of these should
be gold: the fair figure).
Writes JSON to bench/results/entity_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsetl import analysis  # noqa: E402
from newsetl.config import Settings  # noqa: E402
from newsetl.gazetteer import cached  # noqa: E402

MAKE_CORPUS = ROOT.parent / "shared" / "corpus" / "make_corpus.py"
GOLD_TYPES = {"COUNTRY", "ORG", "PERSON", "COMMODITY", "TECHNOLOGY"}


def norm(s: str | None) -> str:
    return "".join(str(s or "").split()).lower()


def load_articles(corpus: Path, limit: int) -> list[dict]:
    """Records of the corpus's .jsonl feeds, image-link lines dropped (they name other articles on purpose)."""
    out = []
    for path in sorted((corpus / "raw" / "jsonl").glob("feed_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            body = re.sub(r"<br\s*/?>", "\n", rec.get("body") or "")
            body = "\n".join(ln for ln in body.split("\n") if not ln.lstrip().startswith("!["))
            out.append({"id": rec.get("id"), "text": (rec.get("title") or "") + "\n" + body})
            if len(out) >= limit:
                return out
    return out


def throughput(texts: list[str], reference_dir: str, repeat: int) -> dict:
    from kiwipiepy import Kiwi

    chars = sum(map(len, texts))
    kiwi = Kiwi()
    list(kiwi.tokenize(texts[:20]))
    analysis.analyse_batch([(str(i), t) for i, t in enumerate(texts[:20])], reference_dir)  # warm both
    best_kiwi = best_ours = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        list(kiwi.tokenize(texts))  # a list input gives a lazy iterator: consume it
        best_kiwi = min(best_kiwi, time.perf_counter() - t0)
        t0 = time.perf_counter()
        analysis.analyse_batch([(str(i), t) for i, t in enumerate(texts)], reference_dir)
        best_ours = min(best_ours, time.perf_counter() - t0)
    return {"texts": len(texts), "chars": chars, "kiwi_chars_per_s": round(chars / best_kiwi),
            "extract_chars_per_s": round(chars / best_ours), "ratio": round(best_kiwi / best_ours, 3)}


def accuracy(articles: list[dict], gold_path: Path, reference_dir: str) -> dict:
    gold = {}
    for line in gold_path.read_text(encoding="utf-8").splitlines():
        g = json.loads(line)
        gold[g["id"]] = g["entities"]
    gaz = cached(reference_dir)
    names: dict[str, set[str]] = {}
    for surface, entity_id in gaz.surfaces.items():
        names.setdefault(entity_id, set()).add(norm(surface))
    _, mentions = analysis.analyse_batch([(a["id"], a["text"]) for a in articles if a["id"] in gold], reference_dir)
    found: dict[str, dict[str, dict]] = {}
    for sha, _idx, _s, _e, surface, etype, key, ref, name, *_ in mentions:
        ent = found.setdefault(sha, {}).setdefault(key, {"type": etype, "ref": ref, "keys": set()})
        ent["keys"] |= {norm(name), norm(surface)} | names.get(ref or "", set())
    # every name the corpus's gold uses anywhere: the generator's lexicon, seen through gold
    lexicon = {(g["type"], k) for ents in gold.values() for g in ents
               for k in {norm(g["name"])} | {norm(x) for x in g["surfaces"]}}
    tp = fp = fn = tp_linked = fp_linked = tp_lex = fp_lex = 0
    by_type: dict[str, list[int]] = {}
    for article_id, ents in found.items():
        gents = gold[article_id]
        hit = set()
        for ent in ents.values():
            if ent["type"] not in GOLD_TYPES:
                continue
            match = next((i for i, g in enumerate(gents) if g["type"] == ent["type"]
                          and ent["keys"] & ({norm(g["name"])} | {norm(s) for s in g["surfaces"]})), None)
            in_lexicon = any((ent["type"], k) in lexicon for k in ent["keys"])
            if match is None:
                fp += 1
                fp_linked += bool(ent["ref"])
                fp_lex += in_lexicon
            else:
                hit.add(match)
                tp_linked += bool(ent["ref"])
                tp_lex += in_lexicon
        tp += len(hit)
        for i, g in enumerate(gents):
            counts = by_type.setdefault(g["type"], [0, 0])
            counts[0] += i in hit
            counts[1] += 1
        fn += len(gents) - len(hit)
    for article_id in {a["id"] for a in articles if a["id"] in gold} - set(found):
        fn += len(gold[article_id])

    def ratio(a: int, b: int) -> float:
        return round(a / b, 3) if b else 0.0

    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return {"articles": len(found), "recall": r, "precision_all": p,
            "f1_all": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "precision_linked": ratio(tp_linked, tp_linked + fp_linked),
            "precision_lexicon": ratio(tp_lex, tp_lex + fp_lex),
            "recall_by_type": {t: ratio(a, b) for t, (a, b) in sorted(by_type.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/ner_c"))
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=400, help="jsonl articles to use")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not (args.corpus / "gold.jsonl").exists():
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(args.corpus), "--articles", str(args.articles)],
                       check=True)
    reference_dir = str(Settings().reference_dir)
    articles = load_articles(args.corpus, args.limit)
    result = {"throughput": throughput([a["text"] for a in articles], reference_dir, args.repeat),
              "accuracy": accuracy(articles, args.corpus / "gold.jsonl", reference_dir)}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = ROOT / "bench" / "results" / "entity_throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
