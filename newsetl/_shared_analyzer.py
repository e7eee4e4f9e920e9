"""Imported by the analysis' fork server before it forks its workers (see analysis.LocalWorkers): loads
the analyzer they share, for the reference folder named in the fork server's environment
(analysis.SHARED_ANALYZER_ENV). Imported anywhere else (the variable unset), it does nothing. A failed
load is left to each worker: it then loads its own analyzer, as a spawned one does."""

import os

_reference_dir = os.environ.get("NEWSETL_SHARED_ANALYZER")
if _reference_dir:
    from newsetl import analysis

    try:
        analysis.load_shared(_reference_dir)
    except Exception:  # noqa: BLE001, S110 - see the module's docstring
        pass
