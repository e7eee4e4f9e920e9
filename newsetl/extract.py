"""Mentions of free text lines, as `newsetl extract` prints them: the extractor the pipeline uses."""

from __future__ import annotations

from pathlib import Path

from newsetl import dates
from newsetl.analysis import _extractor, _remember
from newsetl.entities import Mention
from newsetl.nlp import split_sentences


def extract_lines(lines: list[str], reference_dir: Path) -> list[list[dict]]:
    """For each line, its typed mentions with offsets into that line (dates included, type DATE)."""
    extractor = _extractor(str(reference_dir))
    results: list[list[dict]] = []
    for line, doc in zip(lines, split_sentences(lines), strict=True):
        known: dict[str, Mention] = {}
        mentions: list[dict] = []
        for sent in doc:
            for m in extractor.sentence(sent, known):
                mentions.append({"start": sent.start + m.start, "end": sent.start + m.end, "text": m.text,
                                 "type": m.entity_type, "entity_id": m.key})
                if m.entity_type == "PERSON":
                    _remember(known, m)
            for d in dates.find_dates(sent.text, None):
                mentions.append({"start": sent.start + d.start, "end": sent.start + d.end, "text": d.text,
                                 "type": "DATE", "entity_id": None})
        mentions.sort(key=lambda m: (m["start"], m["end"]))
        results.append(mentions)
    return results
