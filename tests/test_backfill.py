"""Backfills: one run per day in order, resumable, re-run when a day's input changes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from newsetl.backfill import backfill, inputs_by_day
from newsetl.config import Settings


@dataclass
class FakeSummary:
    status: str
    run_id: str
    message: str | None = None


def _landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    (root / "2025-01-01").mkdir(parents=True)
    (root / "2025-01-01" / "a.txt").write_text("미국이 중국에 대한 수출 통제를 발표했다.\n", encoding="utf-8")
    (root / "20250102").mkdir()
    (root / "20250102" / "b.txt").write_text("한국과 일본이 회담했다.\n", encoding="utf-8")
    (root / "NewsResult_20250104-20250104.xlsx").write_bytes(b"not really a workbook")
    (root / "README.txt").write_text("no date in this name\n", encoding="utf-8")
    return root


def _runner(calls: list, status: str = "success"):
    def run_day(settings: Settings) -> FakeSummary:
        calls.append(sorted(Path(s).name for s in settings.sources))
        return FakeSummary(status, f"run{len(calls)}", None if status == "success" else "a check failed")
    return run_day


def test_days_are_found_by_folder_and_file_names(tmp_path):
    found = inputs_by_day(_landing(tmp_path))
    assert {d: [p.name for p in ps] for d, ps in found.items()} == {
        date(2025, 1, 1): ["2025-01-01"], date(2025, 1, 2): ["20250102"],
        date(2025, 1, 4): ["NewsResult_20250104-20250104.xlsx"]}


def test_backfill_runs_each_day_in_order_and_resumes(tmp_path):
    root = _landing(tmp_path)
    settings = Settings().with_(db=tmp_path / "w" / "newsetl.duckdb")
    calls: list = []
    results = backfill(settings, root, date(2025, 1, 1), date(2025, 1, 4), run_day=_runner(calls))
    assert [(r.day.day, r.status) for r in results] == [(1, "success"), (2, "success"), (3, "no_input"),
                                                       (4, "success")]
    assert calls == [["2025-01-01"], ["20250102"], ["NewsResult_20250104-20250104.xlsx"]]
    # a second backfill over the same window does nothing
    again = backfill(settings, root, date(2025, 1, 1), date(2025, 1, 4), run_day=_runner(calls))
    assert [r.status for r in again] == ["skipped", "skipped", "no_input", "skipped"]
    assert len(calls) == 3
    # a changed day is restated; --force runs everything again
    changed = root / "20250102" / "b.txt"
    changed.write_text("한국과 일본이 정상회담을 열었다.\n", encoding="utf-8")
    os.utime(changed, ns=(1, 1))
    restated = backfill(settings, root, date(2025, 1, 1), date(2025, 1, 4), run_day=_runner(calls))
    assert [r.status for r in restated] == ["skipped", "success", "no_input", "skipped"]
    forced = backfill(settings, root, date(2025, 1, 1), date(2025, 1, 2), run_day=_runner(calls), force=True)
    assert [r.status for r in forced] == ["success", "success"]


def test_a_failed_day_stops_the_backfill_and_is_retried_next_time(tmp_path):
    root = _landing(tmp_path)
    settings = Settings().with_(db=tmp_path / "w" / "newsetl.duckdb")
    calls: list = []
    failed = backfill(settings, root, date(2025, 1, 1), date(2025, 1, 4), run_day=_runner(calls, "failed"))
    assert [r.status for r in failed] == ["failed"]
    resumed = backfill(settings, root, date(2025, 1, 1), date(2025, 1, 4), run_day=_runner(calls))
    assert [r.status for r in resumed][:2] == ["success", "success"]


def test_window_must_be_ordered(tmp_path):
    with pytest.raises(ValueError, match="before"):
        backfill(Settings().with_(db=tmp_path / "w.duckdb"), _landing(tmp_path), date(2025, 1, 2),
                 date(2025, 1, 1), run_day=_runner([]))


def test_prefect_yaml_deploys_the_pipeline_flow():
    import importlib

    import yaml
    from conftest import ROOT

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert {d["name"] for d in spec["deployments"]} == {"newsetl-hourly", "newsetl-full-refresh"}
    for deployment in spec["deployments"]:
        path, name = deployment["entrypoint"].split(":")
        flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)
        assert flow.name == "pipeline"
        # every parameter the deployment sets is one the flow takes
        assert set(deployment["parameters"]) <= set(flow.parameters.properties)
    hourly = next(d for d in spec["deployments"] if d["name"] == "newsetl-hourly")
    assert hourly["schedules"][0]["cron"] == "0 * * * *"
