"""Korean analysis of a batch of texts: sentences and typed entity mentions, behind intermediate.int_sentences.

Functions here take and return plain rows and frames so that they run the same in this
process, in a worker process or on a Dask worker.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import polars as pl

from newsetl.entities import Extractor, Mention
from newsetl.gazetteer import cached as cached_gazetteer
from newsetl.nlp import split_sentences

SENTENCE_SCHEMA = {"text_sha": pl.String, "sentence_idx": pl.Int32, "char_start": pl.Int32,
                   "char_end": pl.Int32, "text": pl.String}
MENTION_SCHEMA = {"text_sha": pl.String, "sentence_idx": pl.Int32, "char_start": pl.Int32, "char_end": pl.Int32,
                  "surface": pl.String, "entity_type": pl.String, "entity_key": pl.String,
                  "reference_id": pl.String, "name": pl.String, "method": pl.String}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


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


