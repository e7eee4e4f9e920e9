"""Korean sentence splitting and morphological analysis with kiwipiepy, one analyzer per process.

Kiwi is created lazily (it costs ~1 s and ~0.5 GB). One with a thread pool is never built before a fork:
it hangs in a forked child, so each worker process builds its own, unless the workers are forked from
a process that loaded a single-threaded one to share (load_single_threaded).
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

NOUNS = frozenset({"NNP", "NNG", "NNB", "NR", "SL", "SH", "SN", "XSN", "XPN", "W_SERIAL"})

_lock = threading.Lock()
_kiwi = None
_kiwi_pid = None
_single_threaded = False  # the analyzer has no thread pool (load_single_threaded)


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


# Kiwi's dictionary of frequent typos is left out: edited news has few, and without it the analyzer sets itself
# up in 1.77 s instead of 2.03 s (five of each, kiwipiepy 0.24.1) while everything it reads stays the same: the
# recognizer trains to byte-identical weights on the KLUE sentences and finds the same 63,553 mentions in a
# 1,500-article generated corpus. The multi-word dictionary ('아만다 사이프리드', '칼리아리 칼초' as one proper noun)
# stays, though it is ~190 MB of the analyzer's ~520 MB and ~1.1 s of its set-up: without it that corpus lost
# 180 mentions of six real names that the model alone then missed.
KIWI_OPTIONS = {"load_typo_dict": False}


def kiwi(num_workers: int | None = None):
    """The process's analyzer (created on first use). A single-threaded one loaded before a fork (see
    load_single_threaded) serves the forked process as it is: without a thread pool, nothing of it is lost."""
    global _kiwi, _kiwi_pid
    with _lock:
        if _kiwi is not None and _kiwi_pid != os.getpid() and _single_threaded:
            _kiwi_pid = os.getpid()
        if _kiwi is None or _kiwi_pid != os.getpid():
            from kiwipiepy import Kiwi

            workers = num_workers if num_workers is not None else int(os.environ.get("NEWSETL_KIWI_THREADS", "0"))
            _kiwi = Kiwi(num_workers=workers, **KIWI_OPTIONS) if workers else Kiwi(**KIWI_OPTIONS)
            _kiwi_pid = os.getpid()
        return _kiwi


def load_single_threaded() -> None:
    """Load this process's analyzer without a thread pool, and set it up (its first use), for processes
    forked from this one to share: kiwi's ~0.5 GB then sits in memory once for all of them (see
    analysis.LocalWorkers). It analyses in the calling thread and holds the GIL meanwhile."""
    global _kiwi, _kiwi_pid, _single_threaded
    from kiwipiepy import Kiwi

    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # num_workers=0 meant 'every core' before kiwipiepy 0.21
        _kiwi, _kiwi_pid, _single_threaded = Kiwi(num_workers=0, **KIWI_OPTIONS), os.getpid(), True
    _kiwi.tokenize("준비.")


def tokenize(texts: list[str], **options) -> Iterator:
    """kiwi's tokens of each text, in order: the whole list in one call to an analyzer with threads (they work
    ahead of the caller), one text at a time to a single-threaded one (it takes no list)."""
    k = kiwi()
    if _single_threaded:
        return (k.tokenize(text, **options) for text in texts)
    return k.tokenize(texts, **options)


def release() -> None:
    """Free the analyzer and the pieces read so far (~0.5 GB): a run calls this when its analysis ends, so
    the stages after it have that memory; the next analysis builds a new analyzer (~1 s)."""
    global _kiwi, _kiwi_pid, _single_threaded
    with _lock:
        _kiwi, _kiwi_pid, _single_threaded = None, None, False
    _readings.clear()


def split_sentences(texts: list[str]) -> list[list[Sentence]]:
    """Sentences with their tokens for each text; one kiwi pass (list input uses its thread pool)."""
    return list(iter_sentences(texts))


# A boundary no reader doubts: whitespace after a Hangul syllable, sentence-final punctuation and any
# closing quotes ('밝혔다. ', '했나요? ', '말했다." '), or a line break. Kiwi splits each piece further
# wherever it reads more than one sentence, and never joins two.
_CLEAR_END = re.compile(r"(?<=[가-힣])[.?!]+[\"'”’」』)\]]*(?=\s)")
_LINE = re.compile(r"[^\n]+")
_PIECES_KEPT = 10_000  # pieces whose analysis a process keeps (~45 MB); the cache starts over when full

# piece text -> its sentences as (start, end, tokens (form, tag, start, end)), offsets into the piece
_readings: dict[str, list[tuple[int, int, list[tuple[str, str, int, int]]]]] = {}


def pieces(text: str) -> list[tuple[int, str]]:
    """(offset, piece) of a text cut at line breaks and unmistakable sentence ends, whitespace trimmed."""
    out = []
    for line in _LINE.finditer(text):
        cursor = 0
        ends = [m.end() for m in _CLEAR_END.finditer(line.group())]
        for end in (*ends, len(line.group())):
            piece = line.group()[cursor:end]
            stripped = piece.strip()
            if stripped:
                out.append((line.start() + cursor + len(piece) - len(piece.lstrip()), stripped))
            cursor = end
    return out


def _reading(sentences) -> list[tuple[int, int, list[tuple[str, str, int, int]]]]:
    out: list[tuple[int, int, list[tuple[str, str, int, int]]]] = []
    for sent in sentences:
        if sent:
            tokens = [(t.form, t.tag, t.start, t.start + t.len) for t in sent]
            if out and _open_end(out[-1][2]):
                prev = out.pop()
                tokens = prev[2] + tokens
            out.append((tokens[0][2], max(t[3] for t in tokens), tokens))
    return out


# How Korean sentences end when no punctuation shows it (했다, 했나요, 할까, 하자, 하라, 했지, 하네)
_FINAL_SYLLABLES = frozenset("다요까죠냐자라네지군나세래게마")


def _open_end(tokens: list[tuple[str, str, int, int]]) -> bool:
    """Kiwi ended a sentence at a comma or at an ending no sentence ends with ('아난야 라오' read as 아난야 + 이 +
    라오/EF, a foreign name taken for a verb; '있겠으니'): the words run on into the next sentence."""
    form, tag = tokens[-1][0], tokens[-1][1]
    return (tag == "EF" and form[-1] not in _FINAL_SYLLABLES) or (tag == "SP" and form == ",")


def iter_sentences(texts: list[str]) -> Iterator[list[Sentence]]:
    """Like split_sentences, one text at a time: kiwi keeps analysing the next texts in its threads
    while the caller works on this one.

    Each distinct piece (a sentence, or a few kiwi splits further) is analysed once per process: a wire
    story's stock lines, a re-post's unchanged paragraphs and boilerplate cost kiwi nothing the second time.
    """
    if not texts:
        return
    if len(_readings) > _PIECES_KEPT:
        _readings.clear()
    docs = [pieces(text) for text in texts]
    todo = list(dict.fromkeys(piece for doc in docs for _, piece in doc if piece not in _readings))
    # kiwi analyses the new pieces in first-seen order, in its own threads ahead of this loop (or, single-threaded,
    # as the loop asks for them)
    analysed = zip(todo, tokenize(todo, split_sents=True), strict=True) if todo else iter(())
    for text, doc in zip(texts, docs, strict=True):
        sentences: list[Sentence] = []
        for offset, piece in doc:
            if piece not in _readings:
                for new, result in analysed:  # the next new piece is this one
                    _readings[new] = _reading(result)
                    if new == piece:
                        break
            for start, end, tokens in _readings[piece]:
                sentences.append(Sentence(offset + start, offset + end, text[offset + start:offset + end],
                                          [Token(f, tag, offset + a, offset + b) for f, tag, a, b in tokens]))
        yield sentences
