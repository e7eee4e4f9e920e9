"""Korean sentence splitting and morphological analysis with kiwipiepy, one analyzer per process.

Kiwi is created lazily (it costs ~1 s and ~0.5 GB) and never before a fork: an instance
with a thread pool hangs in a forked child, so each worker process builds its own.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

NOUNS = frozenset({"NNP", "NNG", "NNB", "NR", "SL", "SH", "SN", "XSN", "XPN", "W_SERIAL"})

_lock = threading.Lock()
_kiwi = None
_kiwi_pid = None


@dataclass(frozen=True)
class Token:
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
    if not texts:
        return []
    analysed = kiwi().split_into_sents(texts, return_tokens=True)
    out: list[list[Sentence]] = []
    for text, sentences in zip(texts, analysed, strict=True):
        doc = []
        for s in sentences:
            tokens = [Token(t.form, t.tag, t.start, t.start + t.len) for t in s.tokens]
            # kiwi can run a sentence across a line break (a headline without a full stop); lines are hard breaks
            doc.extend(_split_lines(text, s.start, s.end, tokens))
        out.append(doc)
    return out


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
