"""Mentions of free text lines, as `newsetl extract` prints them: the extractor the pipeline uses."""

from __future__ import annotations

from pathlib import Path

from newsetl import dates
from newsetl.analysis import _extractor, remember
from newsetl.entities import KLUE_FROM_TYPE, Mention
from newsetl.nlp import split_sentences

KLUE_TAG = KLUE_FROM_TYPE  # PERSON->PS, ORG->OG, COUNTRY/LOCATION->LC: how the KLUE scorer reads our types


def extract_lines(lines: list[str], reference_dir: Path, model_path: Path | None = None) -> list[list[dict]]:
    """For each line, its typed mentions with offsets into that line (dates included, type DATE).

    Names nested in a longer name (한국 in '한국 정부') are linked in the warehouse but are not spans
    of their own here.
    """
    extractor = _extractor(str(reference_dir), str(model_path) if model_path else None, thorough=True)
    results: list[list[dict]] = []
    for _line, doc in zip(lines, split_sentences(lines), strict=True):
        known: dict[str, Mention] = {}
        offices: dict[str, Mention] = {}
        mentions: list[dict] = []
        for sent in doc:
            for m in extractor.sentence(sent, known, offices):
                if m.entity_type == "PERSON":
                    remember(known, m)
                if m.nested:
                    continue
                mentions.append({"start": sent.start + m.start, "end": sent.start + m.end, "text": m.text,
                                 "type": m.role_type or m.entity_type, "entity_id": m.key})
            for d in dates.find_dates(sent.text, None):
                mentions.append({"start": sent.start + d.start, "end": sent.start + d.end, "text": d.text,
                                 "type": "DATE", "entity_id": None})
        mentions.sort(key=lambda m: (m["start"], m["end"]))
        results.append(mentions)
    return results
