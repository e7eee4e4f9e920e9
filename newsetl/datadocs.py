"""Great Expectations Data Docs of one run, built from the GX results kept in audit.validation_suites.

For people who know GX's pages. They load jQuery, Bootstrap and Vega from CDNs, so offline they
are unstyled; the report proper (newsetl.report) is self-contained.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from newsetl.warehouse import table_exists

SITE = "newsetl"


def build(con: duckdb.DuckDBPyConnection, run_id: str, out_dir: Path,
          started_at: datetime | None = None) -> Path | None:
    """Write the Data Docs site of a run into out_dir; None when the run kept no GX results."""
    if not table_exists(con, "audit.validation_suites"):
        return None
    rows = con.execute("select suite, gx_result from audit.validation_suites where run_id = ? "
                       "and gx_result is not null order by suite", [run_id]).fetchall()
    if not rows:
        return None
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.add_data_docs_site(site_name=SITE, site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    schema = ExpectationSuiteValidationResultSchema()
    run = RunIdentifier(run_name=run_id, run_time=started_at)
    for suite, text in rows:
        result = schema.load(json.loads(text))
        key = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
                                         run_id=run, batch_identifier=suite)
        ctx.validation_results_store.set(key, result)
    ctx.build_data_docs(site_names=[SITE])
    _share_static(out_dir)
    return out_dir / "index.html"


def _share_static(out_dir: Path) -> None:
    """GX copies ~4 MB of images and fonts into every site: keep one copy in reports/_gx_static and link it.

    The link is relative (../../_gx_static), so it resolves from reports/<run_id>/ and from reports/latest/.
    """
    static = out_dir / "static"
    shared = out_dir.parent.parent / "_gx_static"
    if not static.is_dir() or static.is_symlink():
        return
    if shared.is_dir():
        shutil.rmtree(static)
    else:
        os.replace(static, shared)
    static.symlink_to(Path("..") / ".." / shared.name, target_is_directory=True)
