"""Python's cyclic garbage collector around the libraries a process loads once and keeps: Prefect, Great
Expectations, DuckDB, polars.

Nothing here imports them: the Prefect server's process uses it before it loads anything else.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_loading = 0  # blocks of loading_libraries under way, in any thread
_collecting = True  # whether the collector ran before the first of them began


def set_aside_loaded_objects() -> None:
    """Freeze the garbage collector's view of every object alive now (gc.freeze): the libraries' objects live as
    long as the process, and set aside they no longer make each full collection walk them (~0.2 s each).

    They are handed back at exit. Frozen, duckdb's objects were never collected during a normal interpreter
    exit, and nanobind then printed tens of 'leaked instance' lines: into serve's log at the end of every
    scheduled run, which Prefect runs in a process of its own (the CLI itself leaves through os._exit)."""
    gc.freeze()
    _unfreeze_at_exit()


@functools.cache
def _unfreeze_at_exit() -> None:
    import atexit

    atexit.register(gc.unfreeze)


@contextmanager
def loading_libraries() -> Iterator[None]:
    """Import large libraries with the collector paused, then set their objects aside (set_aside_loaded_objects).

    An import makes hundreds of thousands of objects that live as long as the process, and every collection
    the allocations trigger meanwhile walks the ones made so far, in vain: Prefect's server loads in 1.9-2.1 s
    without them against 2.5-2.7 s with them, Great Expectations in 2.0 s against 2.4-3.0 s (three of each).

    Blocks may nest and may run on several threads at once (the checks load Great Expectations on a thread
    while the run starts): the collector runs again when the last of them ends, as it was before the first.
    Meanwhile other threads' garbage with cycles waits for it; plain garbage is freed at once, as always.
    """
    global _loading, _collecting
    with _lock:
        if _loading == 0:
            _collecting = gc.isenabled()
            gc.disable()
        _loading += 1
    try:
        yield
    finally:
        with _lock:
            _loading -= 1
            if _loading == 0:
                set_aside_loaded_objects()
                if _collecting:
                    gc.enable()
