"""Great Expectations suites over the built marts, and SQL rule views whose rows are violations.

Suites are JSON in expectations/<model>.json and validate pandas batches read from DuckDB
(GX's SQLAlchemy path to DuckDB breaks in metric resolution). Each expectation has a
severity: 'critical' blocks publishing, 'warning' is reported only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

SEVERITY = {"critical": "error", "warning": "warn", "info": "warn"}


class SuiteError(ValueError):
    """A suite file that is not valid: it must fail loudly, not lose expectations silently."""


@dataclass
class CheckResult:
    suite: str
    expectation: str
    severity: str  # error | warn
    success: bool
    observed: str | None
    unexpected_count: int | None
    sample: str | None

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and not self.success


def load_suite_files(expectations_dir: Path) -> dict[str, dict]:
    suites = {}
    for path in sorted(expectations_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise SuiteError(f"{path}: not valid JSON: {err.msg} at line {err.lineno}") from None
        if data.get("name") != path.stem:
            raise SuiteError(f"{path}: suite name '{data.get('name')}' must equal the file name '{path.stem}'")
        suites[path.stem] = data
    return suites


def _gx_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, ctx


def build_suite(gx, data: dict, origin: str):
    """A GX suite from its JSON; a dropped or unknown expectation is an error naming the file."""
    suite = gx.ExpectationSuite(name=data["name"], meta=data.get("meta") or {},
                                expectations=data.get("expectations", []))
    if len(suite.expectations) != len(data.get("expectations", [])):
        known = {e.expectation_type for e in suite.expectations}
        lost = [e.get("type") for e in data["expectations"] if e.get("type") not in known]
        raise SuiteError(f"{origin}: {len(data['expectations']) - len(suite.expectations)} expectation(s) "
                         f"could not be loaded (check the type and kwargs): {', '.join(map(str, lost)) or '?'}")
    return suite


def _describe(config) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{config.type}({args})"


def _results(suite_name: str, result) -> list[CheckResult]:
    out = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        observed = res.get("observed_value")
        sample = res.get("partial_unexpected_list")
        severity = getattr(cfg, "severity", None)
        severity = SEVERITY.get(getattr(severity, "value", severity) or "critical", "error")
        out.append(CheckResult(
            suite=suite_name, expectation=_describe(cfg), severity=severity, success=bool(r.success),
            observed=None if observed is None else str(observed)[:500],
            unexpected_count=res.get("unexpected_count"),
            sample=None if not sample else json.dumps(sample[:10], ensure_ascii=False, default=str)[:1000],
        ))
    return out


def validate(con: duckdb.DuckDBPyConnection, expectations_dir: Path, rule_views: list[str]) -> list[CheckResult]:
    """Run every suite against its model and every rule view (violations must be zero rows)."""
    gx, ctx = _gx_context()
    source = ctx.data_sources.add_pandas("warehouse")
    results: list[CheckResult] = []
    for name, data in load_suite_files(expectations_dir).items():
        table = (data.get("meta") or {}).get("model") or f"marts.{name}"
        suite = build_suite(gx, data, str(expectations_dir / f"{name}.json"))
        results.extend(_run(source, suite, name, con.execute(f"select * from {table}").df()))
    for view in rule_views:
        data = {"name": view, "expectations": [
            {"type": "expect_table_row_count_to_equal", "kwargs": {"value": 0}, "severity": "critical"}]}
        suite = build_suite(gx, data, view)
        results.extend(_run(source, suite, view, con.execute(f"select * from {view} limit 1000").df()))
    return results


def _run(source, suite, name: str, frame) -> list[CheckResult]:
    asset = source.add_dataframe_asset(name=name)
    batch = asset.add_batch_definition_whole_dataframe(f"{name}_all").get_batch(batch_parameters={"dataframe": frame})
    return _results(name, batch.validate(suite, result_format="SUMMARY"))


def record(con: duckdb.DuckDBPyConnection, run_id: str, results: list[CheckResult]) -> None:
    now = datetime.now()
    rows = [(run_id, r.suite, r.expectation, r.severity, r.success, r.observed, r.unexpected_count, r.sample, now)
            for r in results]
    if rows:
        con.executemany("insert into audit.validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
