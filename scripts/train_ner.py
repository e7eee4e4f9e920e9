"""Train the CRF name recognizer (newsetl/ner.py) on KLUE-NER news sentences, with k-fold cross-validation.

The data (KLUE-NER wikitree dev, CC BY-SA 4.0) stays in ../shared; only the weights are written,
to newsetl/models_data/ner.crfsuite. Lines are split into sentences as `newsetl extract` splits them, and
each training fold gets a copy of its lines with the names swapped among themselves (see augment).
Deterministic: folds by line index, seeded swaps, fixed trainer settings.

    uv run python scripts/train_ner.py [--data ../shared/data/klue-ner/wikitree_dev.jsonl] [--folds 5] [--no-write]
                                       [--crf-only] [--augment N] [--seed N] [--dump cv.jsonl] [--clusters]

The word clusters the features use (newsetl/models_data/ner_clusters.tsv) and the morphemes that describe a
unit's context (ner_context.tsv) come from kiwi's language model, not from KLUE; --clusters rebuilds both
before training.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsetl import ner  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "klue-ner" / "wikitree_dev.jsonl"
TAG = re.compile(r"<([^<>]+?):(PS|LC|OG|DT|TI|QT)>")
PARAMS = {"c1": 0.02, "c2": 0.1, "max_iterations": 150, "feature.possible_transitions": True}
AUGMENT = 1  # name-swapped copies of each training line (see augment); 1 beat 0 and 3 in CV


def parse(tagged: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Plain text and (start, end, tag) spans of one KLUE-tagged sentence (the shared scorer's reading)."""
    out, spans, pos, last = [], [], 0, 0
    for m in TAG.finditer(tagged):
        out.append(tagged[last:m.start()])
        pos += m.start() - last
        spans.append((pos, pos + len(m.group(1)), m.group(2)))
        out.append(m.group(1))
        pos += len(m.group(1))
        last = m.end()
    out.append(tagged[last:])
    return "".join(out).replace("\n", " "), spans


def load(path: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    return [parse(json.loads(line)["tagged"]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prepare(texts: list[str]):
    """Per line, its sentences as `newsetl extract` reads them: (offset into the line, units, features).

    Lines are split into sentences first, as the extractor does, so the model trains on the contexts it
    will label (a sentence's first word, its last) rather than on whole lines.
    """
    from newsetl.entities import default_extractor
    from newsetl.nlp import split_sentences

    extractor = default_extractor()
    prepared = []
    for doc in split_sentences(texts):
        line = []
        for sent in doc:
            us, gaz = extractor.ner_inputs(sent)
            line.append((sent.start, us, ner.features(sent.text, us, gaz, extractor.surnames)))
        prepared.append(line)
    return prepared


def sequences(line, gold) -> list[tuple[list, list[str]]]:
    """Training pairs (features, labels) of one prepared line and its gold spans."""
    return [(feats, ner.labels_for(us, sorted((s - off, e - off, t) for s, e, t in gold)))
            for off, us, feats in line]


def augment(data: list[tuple[str, set]], copies: int, seed: int = 0) -> list[tuple[str, set]]:
    """Copies of training lines with every name swapped for another of the same type from those lines.

    The model sees each context with names it has not memorised there, so it learns the context
    (a title after a person, a particle after a place) more than the names: a generalisation aid, used
    on the training folds only.
    """
    import random

    rng = random.Random(seed)
    pool: dict[str, list[str]] = {}
    for text, gold in data:
        for s, e, t in sorted(gold):
            pool.setdefault(t, []).append(text[s:e])
    out = []
    for _ in range(copies):
        for text, gold in data:
            if not gold:
                continue
            parts, spans, pos, last = [], [], 0, 0
            for s, e, t in sorted(gold):
                if s < last:
                    continue
                name = rng.choice(pool[t])
                parts.append(text[last:s])
                pos += s - last
                spans.append((pos, pos + len(name), t))
                parts.append(name)
                pos += len(name)
                last = e
            parts.append(text[last:])
            out.append(("".join(parts), set(spans)))
    return out


def build_clusters(path: Path, basis_size: int = 384, sizes: tuple[int, int] = (64, 512)) -> int:
    """Cluster kiwi's nouns by its language model's embeddings and write `form, tag, coarse, fine` lines.

    Kiwi (CoNg model) gives cosines between morphemes, not the vectors; a noun's cosines with a fixed random
    set of frequent nouns stand in for its vector. The shared directions that follow word frequency more than
    meaning (the top principal components) are removed, then spherical k-means groups the nouns twice, coarse
    and fine. Seeded, so the same kiwi model gives the same file.
    """
    import numpy as np

    from newsetl.nlp import kiwi

    k = kiwi()
    ids, forms = [], []
    # the language model knows the first morphemes of the dictionary (the frequent ones)
    for i in range(ner.lm_vocabulary(k)):
        m = k.morpheme(i)
        if str(m.tag) in ("NNP", "NNG") and m.form and " " not in m.form:
            ids.append(i)
            forms.append((m.form, str(m.tag)))
    rng = np.random.default_rng(0)
    basis = sorted(rng.choice([i for i in ids if i < 15_000], basis_size, replace=False).tolist())
    sim = k.morpheme_similarity
    x = np.array([[sim(i, b) for b in basis] for i in ids], dtype=np.float32)
    x -= x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    x -= (x @ vt[:4].T) @ vt[:4]
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-9

    def kmeans(size: int, iters: int = 12) -> np.ndarray:
        centres = x[np.random.default_rng(1).choice(len(x), size, replace=False)].copy()
        for _ in range(iters):
            near = np.argmax(x @ centres.T, axis=1)
            for c in range(size):
                members = near == c
                if members.any():
                    v = x[members].sum(0)
                    centres[c] = v / (np.linalg.norm(v) + 1e-9)
        return np.argmax(x @ centres.T, axis=1)

    coarse, fine = (kmeans(n) for n in sizes)
    path.write_text("".join(f"{f}\t{t}\t{a}\t{b}\n" for (f, t), a, b in zip(forms, coarse, fine, strict=True)),
                    encoding="utf-8")
    return len(forms)


def build_context_basis(path: Path, size: int = 64) -> int:
    """Write `form, tag` lines of a fixed random set of frequent morphemes (nouns, verbs, adverbs, particles):
    ner.py describes a unit's context by the few of them nearest to it in kiwi's language model. Seeded, so
    the same kiwi model gives the same file; taken from kiwi, not from KLUE."""
    import numpy as np

    from newsetl.nlp import kiwi

    k = kiwi()
    kinds = ("NNG", "NNP", "VV", "JKB", "JKS", "JX", "NNB", "MAG")
    pool = [i for i in range(100, 15_000) if str(k.morpheme(i).tag) in kinds]
    basis = sorted(np.random.default_rng(0).choice(pool, size, replace=False).tolist())
    path.write_text("".join(f"{k.morpheme(i).form}\t{k.morpheme(i).tag}\n" for i in basis), encoding="utf-8")
    return len(basis)


def train(pairs: list[tuple[list, list[str]]], path: Path, params: dict) -> None:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for x, y in pairs:
        trainer.append(x, y)
    trainer.set_params(params)
    trainer.train(str(path))


def score(gold: list[set], pred: list[set]) -> dict[str, float]:
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}


def system_spans(texts: list[str], model_path: Path) -> list[set]:
    """PS/OG/LC spans of the whole extractor (rules, gazetteer and this model), as `newsetl extract` reports."""
    from newsetl.extract import KLUE_TAG, extract_lines

    found = extract_lines(texts, ROOT / "seeds" / "reference", model_path=model_path)
    return [{(m["start"], m["end"], KLUE_TAG[m["type"]]) for m in ms if m["type"] in KLUE_TAG} for ms in found]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ner.MODEL_PATH)
    parser.add_argument("--no-write", action="store_true", help="cross-validate only")
    parser.add_argument("--crf-only", action="store_true", help="score the model alone, not the whole extractor")
    parser.add_argument("--augment", type=int, default=AUGMENT, help="name-swapped copies of each training line")
    parser.add_argument("--seed", type=int, default=0, help="added to each training set's name-swap seed (the CV "
                                                            "figures move by ~0.01 with it; the shipped weights use 0)")
    parser.add_argument("--c1", type=float, default=PARAMS["c1"])
    parser.add_argument("--c2", type=float, default=PARAMS["c2"])
    parser.add_argument("--dump", type=Path, help="write each line's gold, CRF and extractor spans (JSON lines)")
    parser.add_argument("--clusters", action="store_true",
                        help=f"rebuild the word clusters ({ner.CLUSTERS_PATH.name}) and the context basis "
                             f"({ner.CONTEXT_PATH.name}) from kiwi's language model first")
    args = parser.parse_args(argv)
    if args.clusters:
        print(f"wrote {ner.CLUSTERS_PATH} ({build_clusters(ner.CLUSTERS_PATH)} nouns)")
        print(f"wrote {ner.CONTEXT_PATH} ({build_context_basis(ner.CONTEXT_PATH)} morphemes)")
    params = {**PARAMS, "c1": args.c1, "c2": args.c2}
    if not args.data.exists():
        sys.exit(f"{args.data}: no such file (KLUE-NER sentences live in ../shared/data/klue-ner)")
    data = load(args.data)
    texts = [t for t, _ in data]
    golds = [{s for s in spans if s[2] in ner.LABELS} for _, spans in data]
    started = time.time()
    prepared = prepare(texts)
    pairs = [sequences(line, g) for line, g in zip(prepared, golds, strict=True)]
    print(f"{len(texts)} lines, {sum(map(len, prepared))} sentences, {sum(map(len, golds))} PS/OG/LC names, "
          f"features in {time.time() - started:.1f}s")

    def extra(idx: list[int], seed: int) -> list[tuple[list, list[str]]]:
        if not args.augment:
            return []
        aug = augment([(texts[i], golds[i]) for i in idx], args.augment, seed + args.seed)
        return [p for line, (_, g) in zip(prepare([t for t, _ in aug]), aug, strict=True) for p in sequences(line, g)]

    tmp = Path(tempfile.mkdtemp(prefix="newsetl-ner-"))
    crf_pred: list[set] = [set()] * len(texts)
    sys_pred: list[set] = [set()] * len(texts)
    for k in range(args.folds):
        test = [i for i in range(len(texts)) if i % args.folds == k]
        train_idx = [i for i in range(len(texts)) if i % args.folds != k]
        path = tmp / f"fold{k}.crfsuite"
        train([p for i in train_idx for p in pairs[i]] + extra(train_idx, k), path, params)
        import pycrfsuite

        tagger = pycrfsuite.Tagger()
        tagger.open(str(path))
        for i in test:
            crf_pred[i] = {(s + off, e + off, t) for off, us, feats in prepared[i]
                           for s, e, t in ner.decode(us, tagger.tag(feats))}
        if not args.crf_only:
            for i, spans in zip(test, system_spans([texts[i] for i in test], path), strict=True):
                sys_pred[i] = spans
        print(f"fold {k}: crf {score([golds[i] for i in test], [crf_pred[i] for i in test])}", flush=True)
    print(f"{args.folds}-fold CV, CRF alone:      {score(golds, crf_pred)}")
    if not args.crf_only:
        print(f"{args.folds}-fold CV, whole extractor: {score(golds, sys_pred)}")
        for tag in ner.LABELS:
            print(f"    {tag}: {score([{s for s in g if s[2] == tag} for g in golds], [{s for s in p if s[2] == tag} for p in sys_pred])}")
    if args.dump:
        args.dump.write_text("\n".join(json.dumps({"text": t, "gold": sorted(g), "crf": sorted(c), "sys": sorted(p)},
                                                  ensure_ascii=False)
                                       for t, g, c, p in zip(texts, golds, crf_pred, sys_pred, strict=True)) + "\n",
                             encoding="utf-8")
    if args.no_write:
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    every = list(range(len(texts)))
    train([p for i in every for p in pairs[i]] + extra(every, args.folds), args.out, params)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB), trained on all {len(texts)} lines")
    if not args.crf_only:
        print(f"in-sample, whole extractor: {score(golds, system_spans(texts, args.out))}")


if __name__ == "__main__":
    main()
