"""Great Expectations suites over the warehouse, and SQL rule views whose rows are violations.

Suites are JSON in expectations/<name>.json (GX 1.x format; `meta.model` names the table, default
marts.<name>), each expectation with GX's own `severity`: 'critical' blocks publishing, 'warning' is
reported only. They run on pandas batches read from DuckDB (GX's SQLAlchemy path to DuckDB breaks in
metric resolution). A view in sql/checks/ that no suite names is a rule view: each row is a violation,
and a critical check expects none.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import sys
import threading
import time
import types
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newsetl.collector import loading_libraries
from newsetl.warehouse import scalar, table_exists

SEVERITY = {"critical": "error", "warning": "warn"}  # GX severity -> audit.validation_results.severity
EXPECTATION_KEYS = {"type", "kwargs", "severity", "description", "meta", "notes"}
SUITE_KEYS = {"name", "meta", "expectations", "notes"}
SAMPLE_ITEMS = 10  # failing examples kept per expectation
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_GRAIN_TYPES = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
# Suites over models larger than this are checked a partition of articles at a time (see run_suite).
PARTITION_ROWS = 1_000_000
PARTITION_COLUMN = "article_id"
_NULLITY = frozenset({"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"})
# expectations judged row by row: their counts on partitions add up to the table's
_ROW_WISE = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null", "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set", "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex",
    "expect_column_value_lengths_to_be_between", "expect_column_value_lengths_to_equal",
    "expect_column_pair_values_a_to_be_greater_than_b", "expect_column_pair_values_to_be_equal",
})


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
    model: str | None = None
    description: str | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and not self.success


@dataclass
class Suite:
    """A loaded suite: the expectations as written (for stable names) and as GX configurations."""

    name: str
    model: str
    origin: str
    specs: list[dict]
    configs: list[Any]  # great_expectations ExpectationConfiguration, ids from expectation_id()
    meta: dict = field(default_factory=dict)

    def columns(self, spec: dict) -> list[str]:
        """The columns an expectation reads, its row condition's included."""
        kwargs = spec.get("kwargs", {})
        return [kwargs[k] for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str)] + list(
            kwargs.get("column_list") or []) + list(_condition_columns(kwargs.get("row_condition")))

    @property
    def key(self) -> list[str]:
        """The grain (the columns of the first uniqueness expectation): it names failing rows."""
        for spec in self.specs:
            if spec["type"] in _GRAIN_TYPES:
                return self.columns(spec)
        return []


@dataclass
class SuiteRun:
    """One suite checked against its model: its results, the rows it read and GX's own result."""

    suite: str
    model: str
    rows: int | None
    seconds: float
    results: list[CheckResult]
    gx_result: dict | None = None  # ExpectationSuiteValidationResult as JSON, for Data Docs


class Validation(list):
    """The CheckResults of one validation (a plain list to callers) plus the run of each suite."""

    def __init__(self, runs: list[SuiteRun]) -> None:
        super().__init__(r for run in runs for r in run.results)
        self.runs = runs


def parameters(today: date | None = None) -> dict[str, str]:
    """Values a suite may use as {"$PARAMETER": name}: dates that move with the calendar."""
    today = today or date.today()
    return {"today": today.isoformat(), "tomorrow": (today + timedelta(days=1)).isoformat()}


def expectation_id(suite: str, position: int) -> str:
    """A stable id per expectation (GX wants a UUID; a random one would differ on every run)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"newsetl:{suite}#{position}"))


def preload(*, now: bool = False) -> None:
    """Import Great Expectations (~1.8 s) ahead of the checks: on a background thread, or `now`.

    The run's thread spends seconds of its later stages in DuckDB or waiting for the analysis workers,
    without the GIL; the import goes on then, instead of at the checks. A caller that would only wait
    otherwise (for its Prefect server) imports it now. A failed import here is ignored: the checks
    import it again and report the error in their own words.
    """
    if "great_expectations" in sys.modules:
        return
    if now:
        _quiet_import()
    else:
        threading.Thread(target=_quiet_import, name="newsetl-gx-preload", daemon=True).start()


def _quiet_import() -> None:
    try:
        _gx()
    except Exception:  # noqa: BLE001, S110 - see preload
        pass


# Imported by Great Expectations for an expectation and for chart renderers that newsetl's suites and reports
# do not use: scipy.stats (~1.0 s, for expect_column_kl_divergence_to_be_less_than) and altair (~0.3 s) are
# 1.2 of GX's ~3 s import. Each waits behind a stand-in until something reads one of its names.
_DEFERRED_BY_GX = ("scipy.stats", "altair")


class _Deferred(types.ModuleType):
    """A module imported when one of its names is first read (importlib's LazyLoader loads at once here:
    the import system reads a module's __spec__ when it is imported again, and that counts as a use)."""

    def __getattr__(self, name: str):
        real = self.__dict__.get("_module")
        if real is None:
            with _deferred_lock:
                real = self.__dict__.get("_module")
                if real is None:
                    if sys.modules.get(self.__name__) is self:
                        del sys.modules[self.__name__]
                    real = self.__dict__["_module"] = importlib.import_module(self.__name__)
        return getattr(real, name)


_deferred_lock = threading.RLock()  # re-entrant: loading one may read another


def _gx():
    first = "great_expectations" not in sys.modules
    if first:
        for name in _DEFERRED_BY_GX:
            if name not in sys.modules:
                sys.modules[name] = _Deferred(name)
    # GX's ~200k objects live as long as the process: loaded with the collector paused and then set aside, as
    # the libraries of the CLI's start-up are (see collector), not walked by every full collection of the run
    # (~0.15 s each, several a run: see pipeline.give_back_memory)
    with loading_libraries() if first else contextlib.nullcontext():
        import great_expectations as gx
    # GX logs a temporary docs directory at INFO and draws tqdm bars; neither belongs in a run's output.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return gx


def _one_line(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):  # pydantic: say which kwarg is wrong, not the model's whole repr
        try:
            return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors())
        except Exception:  # noqa: BLE001 - fall back to the message
            pass
    text = str(getattr(err, "message", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _condition_columns(condition) -> Iterable[str]:
    """Columns named by a structured GX row condition ({"type": "comparison", "column": {"name": ...}, ...})."""
    if isinstance(condition, dict):
        if isinstance(condition.get("column"), dict) and "name" in condition["column"]:
            yield condition["column"]["name"]
        for part in condition.get("conditions") or []:
            yield from _condition_columns(part)


def _condition_text(condition) -> str:
    if isinstance(condition, dict) and condition.get("type") == "comparison":
        return f"{condition['column']['name']} {condition['operator']} {json.dumps(condition['parameter'])}"
    if isinstance(condition, dict) and condition.get("type") == "nullity":
        return f"{condition['column']['name']} is {'null' if condition['is_null'] else 'not null'}"
    return json.dumps(condition, ensure_ascii=False)


def _parameter_names(value) -> Iterable[str]:
    if isinstance(value, dict):
        if "$PARAMETER" in value:
            yield str(value["$PARAMETER"])
        for v in value.values():
            yield from _parameter_names(v)
    elif isinstance(value, list):
        for v in value:
            yield from _parameter_names(v)


def load_suite(path: Path) -> Suite:
    """A suite file, checked: every expectation loads with a known type, valid kwargs and a severity."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx = _gx()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise SuiteError(f"{path}: not valid JSON: {err.msg} at line {err.lineno}") from None
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: a suite is a JSON object with name, meta and expectations")
    if data.get("name") != path.stem:
        raise SuiteError(f"{path}: suite name '{data.get('name')}' must equal the file name '{path.stem}'")
    if set(data) - SUITE_KEYS:
        raise SuiteError(f"{path}: unknown key(s) {', '.join(sorted(set(data) - SUITE_KEYS))} "
                         f"(allowed: {', '.join(sorted(SUITE_KEYS))}; no generated ids)")
    specs = data.get("expectations")
    if not isinstance(specs, list) or not specs:
        raise SuiteError(f"{path}: 'expectations' must be a non-empty list")
    meta = data.get("meta") or {}
    known = parameters()
    configs = []
    for i, spec in enumerate(specs):
        where = f"{path}: expectations[{i}]"
        if not isinstance(spec, dict):
            raise SuiteError(f"{where}: an expectation is an object with type, kwargs and severity")
        where += f" ({spec.get('type', '?')})"
        if set(spec) - EXPECTATION_KEYS:
            raise SuiteError(f"{where}: unknown key(s) {', '.join(sorted(set(spec) - EXPECTATION_KEYS))}")
        if spec.get("severity") not in SEVERITY:
            raise SuiteError(f"{where}: severity must be 'critical' (blocks publishing) or 'warning', "
                             f"not {spec.get('severity')!r}")
        unknown = sorted(set(_parameter_names(spec.get("kwargs"))) - set(known))
        if unknown:
            raise SuiteError(f"{where}: unknown $PARAMETER {', '.join(unknown)} (known: {', '.join(known)})")
        try:
            config = ExpectationConfiguration(**spec, id=expectation_id(path.stem, i))
            config.to_domain_obj()
        except Exception as err:  # noqa: BLE001 - GX raises several types; each becomes one line naming the file
            kind = "unknown expectation type" if type(err).__name__ == "ExpectationNotFoundError" else "invalid"
            raise SuiteError(f"{where}: {kind}: {_one_line(err)}") from None
        configs.append(config)
    # GX drops an invalid expectation with only a log line: count what it kept.
    kept = len(gx.ExpectationSuite(name=path.stem, expectations=list(configs)).expectations)
    if kept != len(specs):
        raise SuiteError(f"{path}: GX loaded {kept} of {len(specs)} expectations")
    return Suite(name=path.stem, model=meta.get("model") or f"marts.{path.stem}", origin=str(path),
                 specs=specs, configs=configs, meta=meta)


def load_suites(expectations_dir: Path) -> list[Suite]:
    """Every suite of a directory; the first invalid file raises SuiteError."""
    return [load_suite(path) for path in sorted(expectations_dir.glob("*.json"))]


def rule_suite(view: str) -> Suite:
    """The implicit suite of a rule view: no rows (each row is a violation), critical."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    spec = {"type": "expect_table_row_count_to_equal", "kwargs": {"value": 0}, "severity": "critical",
            "description": f"{view} has no rows (each row is a violation)"}
    return Suite(name=view, model=view, origin=view, specs=[spec],
                 configs=[ExpectationConfiguration(**spec, id=expectation_id(view, 0))])


def describe(spec: dict) -> str:
    """An expectation as one stable line: type(kwarg=value, ...), $PARAMETERs by name (not by today's value)."""
    def show(key: str, value) -> str:
        if key == "row_condition":
            return f"[{_condition_text(value)}]"
        if isinstance(value, dict) and "$PARAMETER" in value:
            return f"${value['$PARAMETER']}"
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    args = ", ".join(f"{k}={show(k, v)}" for k, v in spec.get("kwargs", {}).items())
    return f"{spec['type']}({args})"


def _plain(value):
    """JSON-ready: numpy scalars to Python, long text cut (a sample is for reading, not a copy of the data)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            value = str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) > 200:
        return value[:199] + "…"
    if isinstance(value, float):  # pandas' NaN stands for a missing value (JSON has null); 6 places suffice
        return None if value != value else round(value, 6)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _sample(items) -> str | None:
    return json.dumps(_plain(list(items)[:SAMPLE_ITEMS]), ensure_ascii=False) if items else None


def _exception(info) -> str | None:
    """GX's exception_info is either one record or a record per metric; the first message that was raised."""
    if not info:
        return None
    records = [info] if "raised_exception" in info else list(info.values())
    for record in records:
        if isinstance(record, dict) and record.get("raised_exception", True) and (
                record.get("exception_message") or record.get("exception_traceback")):
            return (record.get("exception_message") or "error").strip().splitlines()[-1][:300]
    return None


def _failed(suite: Suite, spec: dict, message: str) -> CheckResult:
    # A check that cannot be evaluated blocks whatever its severity: a typo must not pass quietly.
    return CheckResult(suite=suite.name, expectation=describe(spec), severity="error", success=False,
                       observed=message, unexpected_count=None, sample=None, model=suite.model,
                       description=spec.get("description"))


def _frame(con: duckdb.DuckDBPyConnection, model: str, columns: list[str] | None, where: str = "",
           nullity: set[str] = frozenset()):
    """A model's rows as pandas; the columns in `nullity` read as true or null (the article bodies of a
    100k-article warehouse are 0.5 GB of text, read only to be found not null)."""
    select = ", ".join(f'case when "{c}" is not null then true end as "{c}"' if c in nullity else f'"{c}"'
                       for c in columns) if columns else "*"
    # Via Arrow: DATE columns arrive as datetime.date, which GX compares with ISO-date bounds.
    frame = con.sql(f"select {select} from {model} {where}").to_arrow_table().to_pandas()
    return _widened(frame)


def _widened(frame):
    """Narrow integers and floats as int64 and float64, the same values: GX compares only those two dtypes
    with numpy, and any other one value by value in Python (fct_entity_mention's suite, with its INTEGER
    char_start, took 0.42 s at 10k articles, 0.27 s widened)."""
    import numpy as np

    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, np.dtype) and dtype.kind in ("i", "u", "f") and dtype.itemsize < 8:
            frame[name] = frame[name].astype("float64" if dtype.kind == "f" else "int64")
    return frame


def _splits(spec: dict, column: str) -> bool:
    """Whether an expectation's result on a table is the sum of its results on partitions by `column`:
    a row-wise one, or a uniqueness one whose columns include `column` (a key's rows share a partition)."""
    kwargs = spec.get("kwargs", {})
    if "mostly" in kwargs:
        return False
    if spec["type"] in _ROW_WISE:
        return True
    if spec["type"] == "expect_compound_columns_to_be_unique":
        return column in (kwargs.get("column_list") or [])
    return spec["type"] == "expect_column_values_to_be_unique" and kwargs.get("column") == column


def partitions(model: str, rows: int | None, columns: set[str], partition_rows: int | None) -> int:
    """How many partitions of PARTITION_COLUMN a model is checked in: one unless it is large."""
    if model.startswith("checks.") or not partition_rows or rows <= partition_rows or PARTITION_COLUMN not in columns:
        return 1
    return -(-rows // partition_rows)


def run_suite(con: duckdb.DuckDBPyConnection, source, suite: Suite, params: dict[str, str],
              partition_rows: int | None = PARTITION_ROWS) -> SuiteRun:
    """Check one suite against its model; problems become failed results, never exceptions.

    A large model is read a partition of articles at a time for the expectations that add up across
    partitions (see _splits), and whole, with only their columns, for the others: GX checks pandas
    frames, and 4 M mentions read whole took 3.8 GB.
    """
    started = time.perf_counter()
    rule_view = suite.model.startswith("checks.")
    if not table_exists(con, suite.model):
        results = [_failed(suite, spec, f"cannot evaluate: {suite.model} does not exist") for spec in suite.specs]
        return SuiteRun(suite.name, suite.model, None, time.perf_counter() - started, results)
    try:
        present = set(con.sql(f"select * from {suite.model} limit 0").columns)
        # a rule view is read whole below, and counting it would run its query a second time
        rows = None if rule_view else scalar(con, f"select count(*) from {suite.model}")
    except duckdb.Error as err:  # e.g. a view over a table that is gone
        message = f"cannot evaluate: {suite.model}: {_one_line(err)}"
        return SuiteRun(suite.name, suite.model, None, time.perf_counter() - started,
                        [_failed(suite, spec, message) for spec in suite.specs])
    results: dict[int, CheckResult] = {}
    runnable: list[int] = []
    for i, spec in enumerate(suite.specs):
        missing = [c for c in suite.columns(spec) if c not in present]
        if missing:
            results[i] = _failed(suite, spec, f"cannot evaluate: column {missing[0]!r} is not in {suite.model}")
        else:
            runnable.append(i)
    key = [c for c in suite.key if c in present]
    parts = partitions(suite.model, rows, present, partition_rows)
    split = [i for i in runnable if parts > 1 and _splits(suite.specs[i], PARTITION_COLUMN)]
    whole = [i for i in runnable if i not in split]

    def needed(indices: list[int]) -> list[str] | None:
        columns = sorted({c for i in indices for c in suite.columns(suite.specs[i])} | set(key))
        # a rule view's rows are its failing examples, so read them whole; other suites read what they check
        return None if rule_view or not columns else columns

    def nullity_only(indices: list[int]) -> set[str]:
        """Columns whose values no expectation reads, only whether they are null (row conditions read values)."""
        specs = [suite.specs[i] for i in indices]
        checked = {spec["kwargs"]["column"] for spec in specs if spec["type"] in _NULLITY}
        valued = {c for spec in specs for c in suite.columns(spec)
                  if not (spec["type"] in _NULLITY and c == spec["kwargs"]["column"])}
        return checked - valued - set(key)

    outcomes: dict[int, list[dict]] = {i: [] for i in runnable}  # GX's result of each frame, per expectation
    shape: dict | None = None  # the first validation's JSON: the frame of the suite's GX result
    head = None  # the first rows, the sample of a table-level check
    frames = ([(whole, "")] if whole else []) + [
        (split, f"where hash(\"{PARTITION_COLUMN}\") % {parts} = {p}") for p in range(parts) if split]
    for n, (indices, where) in enumerate(frames):
        flags = nullity_only(indices)
        frame = _frame(con, suite.model, needed(indices), where, flags)
        if head is None:  # a flag (true/null) is no value to show an analyst
            head = frame.head(SAMPLE_ITEMS).drop(columns=[c for c in flags if c in frame.columns])
            head = head if len(head.columns) else head.iloc[:0]
        if rows is None:
            rows = len(frame)
        try:
            validation = _validate(source, f"{suite.name}#{n}", suite, indices, frame, key, params)
        except Exception as err:  # noqa: BLE001 - GX failing on odd data must fail the checks, not the run
            for i in indices:
                results[i] = _failed(suite, suite.specs[i], f"cannot evaluate: {type(err).__name__}: {_one_line(err)}")
                outcomes.pop(i, None)
            continue
        finally:
            del frame
        shape = shape or validation
        by_id = {r["expectation_config"]["id"]: r for r in validation["results"]}
        for i in indices:
            if i in outcomes:
                outcomes[i].append(by_id[expectation_id(suite.name, i)])
    merged = {i: _merged(parts_of) for i, parts_of in outcomes.items() if parts_of}
    for i, r in merged.items():
        results[i] = _result(suite, suite.specs[i], r, head, key)
    return SuiteRun(suite.name, suite.model, rows, time.perf_counter() - started,
                    [results[i] for i in range(len(suite.specs))], _suite_result(shape, merged))


def _validate(source, name: str, suite: Suite, indices: list[int], frame, key: list[str],
              params: dict[str, str]) -> dict:
    """GX's validation of some of a suite's expectations on one frame, as JSON."""
    import great_expectations as gx

    result_format: dict = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ITEMS}
    key = [c for c in key if c in frame.columns]
    if key:
        result_format["unexpected_index_column_names"] = key
    asset = source.add_dataframe_asset(name=name)
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    gx_suite = gx.ExpectationSuite(name=suite.name, meta=suite.meta, expectations=[suite.configs[i] for i in indices])
    try:
        with warnings.catch_warnings():
            # pandas warns that GX's regex metric wraps the pattern in a group: noise in every run's log.
            warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
            return batch.validate(gx_suite, result_format=result_format, expectation_parameters=params).to_json_dict()
    finally:
        # GX's pandas engine keeps every batch's frame for the life of the context: 0.6 GB of articles and as
        # much of mentions at 100k articles, held through the checks that came after them
        batches = source.get_execution_engine().batch_manager
        batches.batch_data_cache.pop(batch.id, None)
        batches.reset_batch_cache()
        source.delete_asset(name=name)


def _merged(parts: list[dict]) -> dict:
    """One expectation's results on the partitions of a table as its result on the table: counts add up,
    failing examples are the first ones found, percentages follow from the counts."""
    if len(parts) == 1:
        return parts[0]
    broken = next((p for p in parts if _exception(p.get("exception_info"))), None)
    if broken:
        return broken
    results = [p.get("result") or {} for p in parts]
    merged = dict(results[0])
    for name in ("element_count", "unexpected_count", "missing_count"):
        if all(name in r for r in results):
            merged[name] = sum(r[name] or 0 for r in results)
    for name in ("partial_unexpected_list", "partial_unexpected_index_list"):
        if any(name in r for r in results):
            merged[name] = [x for r in results for x in (r.get(name) or [])][:SAMPLE_ITEMS]
    if any("partial_unexpected_counts" in r for r in results):
        counts: dict[str, list] = {}
        for r in results:
            for item in r.get("partial_unexpected_counts") or []:
                held = counts.setdefault(json.dumps(item["value"], sort_keys=True, default=str), [item["value"], 0])
                held[1] += item["count"]
        merged["partial_unexpected_counts"] = [{"value": v, "count": c} for v, c in sorted(
            counts.values(), key=lambda vc: -vc[1])][:SAMPLE_ITEMS]
    total, missing, unexpected = (merged.get(n) for n in ("element_count", "missing_count", "unexpected_count"))
    if total is not None and unexpected is not None:
        present = total - (missing or 0)
        share = {"missing_percent": 100 * (missing or 0) / total if total else None,
                 "unexpected_percent": 100 * unexpected / present if present else None,
                 "unexpected_percent_total": 100 * unexpected / total if total else None,
                 "unexpected_percent_nonmissing": 100 * unexpected / present if present else None}
        merged.update({k: v for k, v in share.items() if k in merged})
    return {**parts[0], "success": all(p.get("success") for p in parts), "result": merged}


def _suite_result(shape: dict | None, merged: dict[int, dict]) -> dict | None:
    """The suite's GX result (for Data Docs): the first validation's, with every expectation's merged result."""
    if shape is None:
        return None
    results = [merged[i] for i in sorted(merged)]
    passed = sum(bool(r.get("success")) for r in results)
    statistics = {**(shape.get("statistics") or {}), "evaluated_expectations": len(results),
                  "successful_expectations": passed, "unsuccessful_expectations": len(results) - passed,
                  "success_percent": 100 * passed / len(results) if results else None}
    return {**shape, "results": results, "success": passed == len(results), "statistics": statistics}


def _result(suite: Suite, spec: dict, r: dict, head, key: list[str]) -> CheckResult:
    error = _exception(r.get("exception_info"))
    if error:
        return _failed(suite, spec, f"cannot evaluate: {error}")
    res = r.get("result") or {}
    observed = res.get("observed_value")
    unexpected = res.get("unexpected_count")
    if observed is None and unexpected is not None and res.get("element_count") is not None:
        observed = f"{unexpected} of {res['element_count']} rows unexpected"
    sample = None
    if not r.get("success"):
        if key and res.get("partial_unexpected_index_list"):
            sample = _sample(res["partial_unexpected_index_list"])
        elif res.get("partial_unexpected_list"):
            sample = _sample(res["partial_unexpected_list"])
        elif not suite.columns(spec) and head is not None and len(head):  # a table-level check: show the rows
            sample = _sample(head.to_dict(orient="records"))
    return CheckResult(suite=suite.name, expectation=describe(spec), severity=SEVERITY[spec["severity"]],
                       success=bool(r.get("success")), observed=None if observed is None else str(_plain(observed))[:500],
                       unexpected_count=unexpected, sample=sample, model=suite.model,
                       description=spec.get("description"))


def _broken_suite(path: Path, message: str) -> SuiteRun:
    result = CheckResult(suite=path.stem, expectation="load suite", severity="error", success=False,
                         observed=message, unexpected_count=None, sample=None, description="The suite file loads")
    return SuiteRun(path.stem, "", None, 0.0, [result])


def validate(con: duckdb.DuckDBPyConnection, expectations_dir: Path, rule_views: Iterable[str],
             *, today: date | None = None, partition_rows: int | None = PARTITION_ROWS) -> Validation:
    """Run every suite against its model and every rule view that no suite names (it must have no rows).

    A suite file that does not load becomes a blocking failure naming the file, so a run reports it
    (exit 1, in the report) instead of crashing.
    """
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    # An ephemeral context keeps nothing of what it saves, yet writes its whole configuration out as YAML each
    # time an asset is added or deleted: three times a suite, ~0.3 s of a run's checks (GX 1.x's own
    # docstring: 'Ephemeral: not saved'). The assets, suites and results live on in the context's objects.
    ctx._save_project_config = lambda: None
    _no_frame_fingerprints()
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("warehouse")
    runs: list[SuiteRun] = []
    suites: list[Suite] = []
    for path in sorted(expectations_dir.glob("*.json")):
        try:
            suites.append(load_suite(path))
        except SuiteError as err:
            runs.append(_broken_suite(path, str(err)))
    named = {s.model for s in suites}
    suites += [rule_suite(view) for view in rule_views if view not in named]
    params = parameters(today)
    runs += [run_suite(con, source, suite, params, partition_rows) for suite in suites]
    return Validation(runs)


def _no_frame_fingerprints() -> None:
    """GX's pandas engine hashes every frame it is given below 1 GB (HASH_THRESHOLD), for one batch marker
    ('pandas_data_fingerprint') of the Data Docs: 0.24 s of the checks' 1.86 s (median of six, 10k articles),
    and of one partition only where a table is checked in several. What a run checked is told by
    audit.model_state's fingerprints instead."""
    from great_expectations.execution_engine import pandas_execution_engine

    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0


def record(con: duckdb.DuckDBPyConnection, run_id: str, results: list[CheckResult]) -> None:
    """Append a validation to audit.validation_results (and each suite's GX result to audit.validation_suites)."""
    now = datetime.now()
    rows = pa.table({
        "run_id": pa.array([run_id] * len(results), pa.string()),
        "suite": pa.array([r.suite for r in results], pa.string()),
        "expectation": pa.array([r.expectation for r in results], pa.string()),
        "severity": pa.array([r.severity for r in results], pa.string()),
        "success": pa.array([r.success for r in results], pa.bool_()),
        "observed": pa.array([r.observed for r in results], pa.string()),
        "unexpected_count": pa.array([r.unexpected_count for r in results], pa.int64()),
        "sample": pa.array([r.sample for r in results], pa.string()),
        "checked_at": pa.array([now] * len(results), pa.timestamp("us")),
    })
    _append(con, "audit.validation_results", rows)
    runs = getattr(results, "runs", None)
    if runs and table_exists(con, "audit.validation_suites"):
        _append(con, "audit.validation_suites", pa.table({
            "run_id": pa.array([run_id] * len(runs), pa.string()),
            "suite": pa.array([s.suite for s in runs], pa.string()),
            "model": pa.array([s.model for s in runs], pa.string()),
            "rows_checked": pa.array([s.rows for s in runs], pa.int64()),
            "seconds": pa.array([round(s.seconds, 4) for s in runs], pa.float64()),
            "success": pa.array([all(r.success for r in s.results) for s in runs], pa.bool_()),
            "descriptions": pa.array([json.dumps({r.expectation: r.description for r in s.results},
                                                 ensure_ascii=False) for s in runs], pa.string()),
            "gx_result": pa.array([None if s.gx_result is None else json.dumps(s.gx_result, ensure_ascii=False,
                                                                                 default=str) for s in runs],
                                  pa.string()),
        }))


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    if not rows.num_rows:
        return
    con.register("_newsetl_rows", rows)
    try:
        con.execute(f"insert into {table} by name select * from _newsetl_rows")
    finally:
        con.unregister("_newsetl_rows")
