"""Imported by the analysis' fork server before it forks its workers (see analysis.LocalWorkers): loads
the analyzer they share, for the reference folder named in the fork server's environment
(analysis.SHARED_ANALYZER_ENV). Imported anywhere else (the variable unset), it does nothing. A failed
load is left to each worker: it then loads its own analyzer, as a spawned one does."""

import os
import warnings

_reference_dir = os.environ.get("NEWSETL_SHARED_ANALYZER")
if _reference_dir:
    # Python 3.12+ warns at every fork of a process with threads. The fork server's other threads are idle
    # threads of polars and its allocator (jemalloc's background threads); kiwi, whose pool hangs a forked child,
    # has none here (see nlp.load_single_threaded).
    warnings.filterwarnings("ignore", message=r"This process .* is multi-threaded, use of fork\(\)",
                            category=DeprecationWarning)
    from newsetl import analysis

    try:
        analysis.load_shared(_reference_dir)
    except Exception:  # noqa: BLE001, S110 - see the module's docstring
        pass
