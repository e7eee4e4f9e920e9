"""Korean sentence splitting and morphological analysis with kiwipiepy, one analyzer per process.

Kiwi is created lazily (it costs ~1 s and ~0.5 GB) and never before a fork: an instance
with a thread pool hangs in a forked child, so each worker process builds its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

NOUNS = frozenset({"NNP", "NNG", "NNB", "NR", "SL", "SH", "SN", "XSN", "XPN", "W_SERIAL"})

_lock = threading.Lock()
_kiwi = None
_kiwi_pid = None


class Token(NamedTuple):
    form: str
    tag: str
    start: int  # offsets into the analysed text
    end: int


@dataclass
class Sentence:
    start: int
    end: int
    text: str
    tokens: list[Token]


def kiwi(num_workers: int | None = None):
    """The process's analyzer (created on first use)."""
    global _kiwi, _kiwi_pid
    with _lock:
        if _kiwi is None or _kiwi_pid != os.getpid():
            from kiwipiepy import Kiwi

            workers = num_workers if num_workers is not None else int(os.environ.get("NEWSETL_KIWI_THREADS", "0"))
            _kiwi = Kiwi(num_workers=workers) if workers else Kiwi()
            _kiwi_pid = os.getpid()
        return _kiwi


def split_sentences(texts: list[str]) -> list[list[Sentence]]:
    """Sentences with their tokens for each text; one kiwi pass (list input uses its thread pool)."""
    return list(iter_sentences(texts))


def iter_sentences(texts: list[str]) -> Iterator[list[Sentence]]:
    """Like split_sentences, one text at a time: kiwi keeps analysing the next texts in its threads
    while the caller works on this one."""
    if not texts:
        return
    for text, sentences in zip(texts, kiwi().tokenize(texts, split_sents=True), strict=True):
        doc: list[Sentence] = []
        for sent in sentences:
            if not sent:
                continue
            tokens = [Token(t.form, t.tag, t.start, t.start + t.len) for t in sent]
            start, end = tokens[0].start, max(t.end for t in tokens)
            # kiwi can run a sentence across a line break (a headline without a full stop); lines are hard breaks
            if "\n" in text[start:end]:
                doc.extend(_split_lines(text, start, end, tokens))
            else:
                doc.append(Sentence(start, end, text[start:end], tokens))
        yield doc


def _split_lines(text: str, start: int, end: int, tokens: list[Token]) -> list[Sentence]:
    pieces = []
    cursor = start
    while cursor < end:
        nl = text.find("\n", cursor, end)
        stop = end if nl == -1 else nl
        chunk = text[cursor:stop]
        lead = len(chunk) - len(chunk.lstrip())
        chunk = chunk.strip()
        if chunk:
            s0 = cursor + lead
            s1 = s0 + len(chunk)
            pieces.append(Sentence(s0, s1, chunk, [t for t in tokens if s0 <= t.start < s1]))
        cursor = stop + 1
    return pieces
