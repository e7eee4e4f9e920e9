"""Korean analysis of a batch of texts: sentences and typed entity mentions, behind intermediate.int_sentences.

Functions here take and return plain rows and frames so that they run the same in this
process, in a worker process or on a Dask worker.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import select
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import polars as pl

from newsetl import clean, ner, nlp
from newsetl.entities import Extractor, Mention
from newsetl.gazetteer import cached as cached_gazetteer
from newsetl.nlp import iter_sentences
from newsetl.publishers import Publishers

SENTENCE_SCHEMA = {"text_sha": pl.String, "sentence_idx": pl.Int32, "char_start": pl.Int32,
                   "char_end": pl.Int32, "text": pl.String}
# title and affiliation_id: what the sentence says a person is ('장관', org:kr_motie); null for other types.
# nested: a listed name inside a longer one (한국 in '한국 정부'), linked but not a span of its own.
MENTION_SCHEMA = {"text_sha": pl.String, "sentence_idx": pl.Int32, "char_start": pl.Int32, "char_end": pl.Int32,
                  "surface": pl.String, "entity_type": pl.String, "entity_key": pl.String,
                  "reference_id": pl.String, "name": pl.String, "method": pl.String,
                  "title": pl.String, "affiliation_id": pl.String, "nested": pl.Boolean}


# Discovered names (no reference entry) enter the warehouse only when the model is this sure of them.
MIN_DISCOVERED_CONFIDENCE = 0.8


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@lru_cache(maxsize=4)
def _extractor(reference_dir: str, model_path: str | None = None, thorough: bool = False) -> Extractor:
    return Extractor(cached_gazetteer(reference_dir), model_path=Path(model_path) if model_path else None,
                     thorough=thorough)


def release() -> None:
    """Free this process's analyzer, extractor and their caches (see nlp.release)."""
    _extractor.cache_clear()
    nlp.release()


class WorkerLost(RuntimeError):
    """An analysis worker process died mid-batch."""


class LocalWorkers:
    """The analysis on worker processes of this machine, for the local task runner: one per core.

    Why processes and not this one: finding the mentions is Python and holds the GIL, so one process uses
    about 1.5 cores whatever kiwi's threads do; and kiwi keeps ~0.5 GB that it never returns (measured:
    deleted and trimmed, 250 MB of a fresh analyzer stay), which would sit under every later stage of the
    run. Started early, the workers load their analyzers (~3 s) while this process cleans the new articles;
    stopped, they take that memory with them.

    Fewer workers than cores are spawned, each with its own analyzer (kiwi with one thread, beside the
    worker's Python thread: ~1.5 cores a worker). A worker for every core is forked from one process that
    loaded a single-threaded analyzer first (a fork server, see _shared_analyzer): they share its memory,
    where each spawned worker held its own. On 2 cores, 1,600 texts, alternated: as fast (10.4 and 11.0 s
    against 11.9 and 10.5 s spawned, the same mentions), 0.4 GB less in all (PSS 0.85 GB with the fork server
    against 1.25-1.26 GB), and one analyzer loaded instead of two. A worker's own thread for kiwi buys nothing
    when every core has a worker.
    """

    def __init__(self, workers: int, reference_dir: str, shared: bool | None = None) -> None:
        """`shared`: fork the workers from one analyzer; by default when there are 2 or more, one per core."""
        self.workers = max(1, workers)
        self.reference_dir, self.loaded = reference_dir, reference_state(reference_dir)
        self.lost = False
        if shared is None:
            shared = self.workers > 1 and self.workers >= (os.cpu_count() or 1)
        self.shared = shared and _fork_server_available()
        if self.shared:
            # the fork server starts with this process's environment and loads what its preload reads there
            os.environ[SHARED_ANALYZER_ENV] = reference_dir
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["newsetl._shared_analyzer"])
        else:
            # spawn, not fork: this process runs threads (Prefect's, DuckDB's) that a fork would copy mid-lock
            context = multiprocessing.get_context("spawn")
        self._stop_prefetch = context.Event()
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_start_worker,
                                         initargs=(reference_dir, self.shared, self._stop_prefetch))
        with _ctrl_c_ignored_by_new_processes():
            for _ in range(self.workers):
                self._pool.submit(os.getpid)  # starts each worker now, so that it loads its analyzer now

    def prefetch(self, paths: list[str], settings, limit: int) -> None:
        """Have a worker read the texts of these files, as the ingest will, and analyse them once loaded, ahead
        of the run's asking for them (a few new files: the run asks ~1 s after a worker has loaded, and then
        waited ~1.5 s for 84 texts). It stops at `limit` texts or at stop_prefetch; what it analysed serves
        the batches of the same texts (see analyse_frames), and a text the ingest reads otherwise (another
        cleaning, a duplicate) is only analysed in vain."""
        self._stop_prefetch.clear()
        self._pool.submit(prefetch, paths, settings, self.reference_dir, limit)

    def stop_prefetch(self) -> None:
        """The run asks for its texts now: a prefetch ends after its slice in progress (~0.1 s)."""
        self._stop_prefetch.set()

    def map(self, fn: Callable, batches: list) -> list:
        try:
            return list(self._pool.map(fn, batches))
        except BrokenProcessPool:
            self.lost = True
            raise WorkerLost("an analysis worker process stopped abruptly (killed, or out of memory?)") from None

    def fit(self) -> bool:
        """Whether the pool can serve another run: the reference data unchanged since its analyzers loaded it
        (`newsetl entities promote` changes it), and no worker lost, even while idle (killed, out of memory):
        each worker answers, once its analyzer has loaded."""
        if self.lost or reference_state(self.reference_dir) != self.loaded:
            return False
        try:
            for future in [self._pool.submit(os.getpid) for _ in range(self.workers)]:
                future.result()
        except BrokenProcessPool:
            self.lost = True
        return not self.lost

    def close(self, now: bool = False) -> None:
        """Stop the workers once they are idle; `now` ends them at once, even while they load their analyzers
        (an unused pool: closed politely, each would first finish its ~4 s of loading). The fork server of
        shared workers stops after them, and its analyzer's memory goes with it."""
        self.stop_prefetch()
        if now:
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.shared:
            _stop_fork_server()


def reference_state(reference_dir: str) -> str:
    """Paths, sizes and modification times of the reference files an analyzer loads, hashed."""
    from newsetl.backfill import fingerprint  # the same hash as a backfill day's inputs; not in the workers

    return fingerprint([Path(reference_dir).resolve()])[0]


def _die_with_parent() -> None:
    """A worker whose newsetl process was killed outright (SIGKILL, the out-of-memory killer) would wait for
    work forever with its analyzer loaded (~0.5 GB; it holds its own queue's writing end, so it never reads
    an end of input): the kernel ends it with its parent instead (Linux; elsewhere it outlives it). A forked
    worker's parent is the fork server, which ends when newsetl does."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is not None and wait([parent.sentinel], timeout=0):  # newsetl died before the line above
        os._exit(1)


def _die_with_newsetl() -> None:
    """A worker forked by the fork server: its parent is that server, which outlives a killed newsetl as long
    as any worker lives (each holds the pipe whose end tells it that its client is gone). A thread of the
    worker waits for newsetl's end instead, and ends the worker then; the fork server follows."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    try:
        handle = os.pidfd_open(parent.pid)
    except ProcessLookupError:  # it is gone already
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux 5.3+): the worker outlives a killed newsetl
        return

    def wait_then_exit() -> None:
        select.select([handle], [], [])
        os._exit(1)

    threading.Thread(target=wait_then_exit, name="newsetl-watch", daemon=True).start()


@contextmanager
def _ctrl_c_ignored_by_new_processes() -> Iterator[None]:
    """Ctrl-C reaches the whole process group: the parent stops the run and then its workers, which would
    otherwise each print a KeyboardInterrupt traceback. An ignored SIGINT survives exec, so a worker started
    meanwhile ignores it from its first import on; this process ignores it only for those milliseconds.
    (Signals can be set from the main thread only: elsewhere the worker's initializer does it, later.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_worker(reference_dir: str, forked: bool = False, stop_prefetch=None) -> None:
    global _prefetch_stop
    _prefetch_stop = stop_prefetch
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # see _ctrl_c_ignored_by_new_processes
    _die_with_parent()
    if forked:
        _die_with_newsetl()
    os.environ["NEWSETL_KIWI_THREADS"] = "1"
    _extractor(reference_dir)
    list(nlp.tokenize(["준비."]))  # kiwi sets itself up on first use (~1.7 s); a shared one did before the fork


SHARED_ANALYZER_ENV = "NEWSETL_SHARED_ANALYZER"  # the reference folder the fork server's analyzer loads


def _fork_server_available() -> bool:
    return "forkserver" in multiprocessing.get_all_start_methods()


def load_shared(reference_dir: str) -> None:
    """What the fork server loads before it forks the workers (newsetl._shared_analyzer): a single-threaded
    analyzer, the extractor, and what their first sentences set up (the language model's context ids)."""
    nlp.load_single_threaded()
    analyse_batch([("", "준비를 마친 삼성전자는 미국 텍사스주에 공장을 지었다.")], reference_dir)


def _stop_fork_server() -> None:
    """Stop multiprocessing's fork server (it would hold the shared analyzer for the life of this process);
    the next shared pool starts a new one. _stop is the standard library's own way (Python 3.8-3.13)."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()


def analyse_batch(batch: list[tuple[str, str]], reference_dir: str) -> tuple[list[tuple], list[tuple]]:
    """Sentences and mentions for (text_sha, text) pairs; runs in any process."""
    extractor = _extractor(reference_dir)
    docs = iter_sentences([text for _, text in batch])  # kiwi analyses ahead while mentions are found
    sentences, mentions = [], []
    for (sha, _), doc in zip(batch, docs, strict=True):
        known: dict[str, Mention] = {}
        offices: dict[str, Mention] = {}
        kept: list[dict[tuple[int, str], Mention]] = []
        unsure: list[tuple[int, Mention]] = []
        for idx, sent in enumerate(doc):
            sentences.append((sha, idx, sent.start, sent.end, sent.text))
            kept.append({})
            for m in extractor.sentence(sent, known, offices):
                if m.entity_type == "PERSON":
                    remember(known, m)
                if not m.entity_id and m.generic:
                    continue  # '정부', '박' of 박모씨: no entity for an analyst
                if not m.entity_id and (m.confidence or 1.0) < MIN_DISCOVERED_CONFIDENCE:
                    unsure.append((idx, m))
                    continue
                kept[idx][m.start, m.key] = longer(kept[idx].get((m.start, m.key)), m)
        # a name the model is unsure of is kept where the same article names it surely elsewhere: '네덜란드 반도체
        # 기업 넥스페리아의 …' (sure), then '넥스페리아의 경영권을' (0.51)
        sure = {(m.entity_type, m.key) for sentence in kept for m in sentence.values() if not m.entity_id}
        for idx, m in unsure:
            if (m.entity_type, m.key) in sure and (m.start, m.key) not in kept[idx]:
                kept[idx][m.start, m.key] = m
        mentions.extend((sha, idx, m.start, m.end, m.text, m.entity_type, m.key, m.entity_id, m.name, m.method,
                         m.title, m.affiliation_id, m.nested) for idx, sentence in enumerate(kept) for m in sentence.values())
    ner.save_context_cache()
    return sentences, mentions


# A worker's texts analysed ahead of the run's asking (prefetch): text_sha -> its sentence and mention rows
_prefetched: dict[str, tuple[list[tuple], list[tuple]]] = {}
_prefetch_stop = None  # the pool's event (see LocalWorkers.prefetch), set when the run asks
PREFETCH_SLICE = 8  # texts analysed between two looks at the stop event: ~0.1 s


def prefetch(paths: list[str], settings, reference_dir: str, limit: int) -> int:
    """In a worker: read these files and clean their records as the ingest and int_articles__cleaned will, and
    analyse the texts into _prefetched until the run asks (the stop event) or `limit` texts; the number
    analysed. What the ingest sets aside (quarantine) is skipped; a record that fails here is the ingest's
    to report."""
    # DuckDB comes with the ingest: only a prefetching worker needs it
    from newsetl.ingest import article_row, read_records

    _prefetched.clear()
    publishers = Publishers.from_csv(Path(reference_dir) / "publishers.csv")
    now = datetime.now()
    texts: dict[str, str] = {}

    def stopped() -> bool:
        return (_prefetch_stop is not None and _prefetch_stop.is_set()) or len(_prefetched) >= limit

    def analyse_slice() -> None:
        batch = list(texts.items())[:min(PREFETCH_SLICE, limit - len(_prefetched))]
        sentences, mentions = analyse_batch(batch, reference_dir)
        for sha, _ in batch:
            _prefetched[sha] = ([], [])
            del texts[sha]
        for row in sentences:
            _prefetched[row[0]][0].append(row)
        for row in mentions:
            _prefetched[row[0]][1].append(row)

    for path in paths:
        if stopped():
            break
        records, _ = read_records(Path(path), settings, now.date())
        for record in records:
            try:
                cleaned = clean.clean_article(article_row(path, record, now, ""), publishers)
            except Exception:  # noqa: BLE001 - the ingest reports what cannot be cleaned
                continue
            if cleaned["text_sha"] not in _prefetched:
                texts[cleaned["text_sha"]] = cleaned["analysed_text"]
            if len(texts) >= PREFETCH_SLICE:
                if stopped():
                    return len(_prefetched)
                analyse_slice()
    while texts and not stopped():
        analyse_slice()
    return len(_prefetched)


def analyse_frames(batch: list[tuple[str, str]], reference_dir: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """analyse_batch's rows as frames (SENTENCE_SCHEMA, MENTION_SCHEMA), built where the analysis ran: a
    frame crosses to the run's process as a few columns, where ~130k rows a chunk arrived as one Python
    tuple and string each, to unpickle and then copy into a frame there. The rows of a text analysed ahead
    (prefetch) are taken as they are: a text's rows depend on nothing but the text."""
    ahead = {sha: _prefetched.pop(sha) for sha, _ in batch if sha in _prefetched}
    sentences, mentions = analyse_batch([item for item in batch if item[0] not in ahead], reference_dir)
    for rows in ahead.values():
        sentences.extend(rows[0])
        mentions.extend(rows[1])
    return (pl.DataFrame(sentences, schema=SENTENCE_SCHEMA, orient="row"),
            pl.DataFrame(mentions, schema=MENTION_SCHEMA, orient="row"))


def longer(held: Mention | None, new: Mention) -> Mention:
    """One mention per entity and start offset: '경남도' (model) over '경남' (gazetteer), a span over a nested one."""
    if held is None:
        return new
    if (held.nested, -(held.end - held.start)) <= (new.nested, -(new.end - new.start)):
        return held
    return new


def remember(known: dict[str, Mention], person: Mention) -> None:
    """Later mentions of a person use the family name (Korean) or the last name (foreign)."""
    if person.generic or person.nested:
        return
    parts = person.name.split()
    known.setdefault(person.name, person)
    if len(parts) > 1:
        known.setdefault(parts[-1], person)
    elif len(person.name) in (3, 4):
        known.setdefault(person.name[0], person)


