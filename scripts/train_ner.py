"""Train the CRF name recognizer (newsetl/ner.py) on KLUE-NER news sentences, with k-fold cross-validation.

The data (KLUE-NER wikitree dev, CC BY-SA 4.0) stays in ../shared; only the weights are written,
to newsetl/models_data/ner.crfsuite. Deterministic: folds by sentence index, fixed trainer settings.

    uv run python scripts/train_ner.py [--data ../shared/data/klue-ner/wikitree_dev.jsonl] [--folds 5] [--no-write]
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
    """Units, gazetteer labels and features of every sentence, as the extractor builds them."""
    from newsetl.entities import default_extractor

    extractor = default_extractor()
    prepared = []
    for text, sent in zip(texts, extractor.analyse(texts), strict=True):
        us, gaz = extractor.ner_inputs(sent)
        prepared.append((us, ner.features(text, us, gaz, extractor.surnames)))
    return prepared


def train(xs, ys, path: Path) -> None:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for x, y in zip(xs, ys, strict=True):
        trainer.append(x, y)
    trainer.set_params(PARAMS)
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
    args = parser.parse_args(argv)
    if not args.data.exists():
        sys.exit(f"{args.data}: no such file (KLUE-NER sentences live in ../shared/data/klue-ner)")
    data = load(args.data)
    texts = [t for t, _ in data]
    golds = [{s for s in spans if s[2] in ner.LABELS} for _, spans in data]
    started = time.time()
    prepared = prepare(texts)
    xs = [f for _, f in prepared]
    ys = [ner.labels_for(us, sorted(g)) for (us, _), g in zip(prepared, golds, strict=True)]
    print(f"{len(texts)} sentences, {sum(map(len, golds))} PS/OG/LC names, features in {time.time() - started:.1f}s")
    tmp = Path(tempfile.mkdtemp(prefix="newsetl-ner-"))
    crf_pred: list[set] = [set()] * len(texts)
    sys_pred: list[set] = [set()] * len(texts)
    for k in range(args.folds):
        test = [i for i in range(len(texts)) if i % args.folds == k]
        train_idx = [i for i in range(len(texts)) if i % args.folds != k]
        path = tmp / f"fold{k}.crfsuite"
        train([xs[i] for i in train_idx], [ys[i] for i in train_idx], path)
        import pycrfsuite

        tagger = pycrfsuite.Tagger()
        tagger.open(str(path))
        for i in test:
            crf_pred[i] = set(ner.decode(prepared[i][0], tagger.tag(xs[i])))
        if not args.crf_only:
            for i, spans in zip(test, system_spans([texts[i] for i in test], path), strict=True):
                sys_pred[i] = spans
        print(f"fold {k}: crf {score([golds[i] for i in test], [crf_pred[i] for i in test])}", flush=True)
    print(f"{args.folds}-fold CV, CRF alone:      {score(golds, crf_pred)}")
    if not args.crf_only:
        print(f"{args.folds}-fold CV, whole extractor: {score(golds, sys_pred)}")
    if args.no_write:
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    train(xs, ys, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB), trained on all {len(texts)} sentences")
    if not args.crf_only:
        print(f"in-sample, whole extractor: {score(golds, system_spans(texts, args.out))}")


if __name__ == "__main__":
    main()
