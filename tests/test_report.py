"""Tests of the HTML report (newsetl.report, newsetl.charts) and the `validate` / `report` commands.

The report is written for a small warehouse with hostile strings in it (test_checks.make_warehouse), read
as text (escaping, self-contained, sections, determinism), then opened in headless Chromium: the DOM has
the charts and the screenshots are not blank.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import datetime
from html import escape as html_escape
from pathlib import Path

import duckdb
import pytest
from test_checks import BREAKAGES, HOSTILE, make_warehouse, run_checks
from typer.testing import CliRunner

from newsetl import charts, checks, cli, report
from newsetl.config import Settings

CHARTS = ("timeline", "top-entities", "network", "trend")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def build(path: Path, *, broken: str | None = None) -> Path:
    """A warehouse file with two recorded runs (r0 healthy, r1 as given) and r1's report written."""
    con = duckdb.connect(str(path))
    make_warehouse(con, run_id="r1", started=datetime(2026, 1, 15, 9, 0))
    con.execute("insert into audit.pipeline_runs (run_id, started_at, finished_at, status, published) "
                "values ('r0', timestamp '2026-01-14 09:00', timestamp '2026-01-14 09:01', 'success', true)")
    checks.record(con, "r0", run_checks(con))
    con.execute("update audit.pipeline_runs set status = ?, published = ? where run_id = 'r1'",
                ["failed" if broken else "success", not broken])
    if broken:
        con.execute(BREAKAGES[broken][0])
    checks.record(con, "r1", run_checks(con))
    con.execute("checkpoint")
    report.write(con, path.parent / "reports", "r1")
    con.close()
    return path.parent / "reports" / "r1" / "index.html"


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("report") / "w.duckdb")


def svg(html: str, chart_id: str) -> str:
    match = re.search(rf'<svg id="{chart_id}".*?</svg>', html, re.S)
    assert match, f"no chart {chart_id}"
    return match.group(0)


def test_the_page_is_self_contained_and_escapes_every_value(page):
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "onerror=" not in html  # the hostile strings stayed text
    assert html_escape(HOSTILE) == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co"
    assert html_escape(HOSTILE) in html
    assert "in/&lt;b&gt;evil&lt;/b&gt;.bin" in html and "&quot;here&quot; &amp; &lt;there&gt;" in html
    # nothing to fetch: no external URL, stylesheet link, image or font
    assert not re.search(r"https?://", html)
    assert not re.search(r"<(link|img|iframe|object|embed)\b", html, re.I)
    assert "url(" not in html


def test_the_page_has_the_summary_suites_quarantine_and_pictures(page):
    html = page.read_text(encoding="utf-8")
    for anchor in ("failures", "checks", "trend", "quarantine", "timeline", "entities", "network", "data-docs"):
        assert f"id='{anchor}'" in html
    assert "Every check passed." in html and "published" in html
    for suite in ("dim_article", "fct_event_participant", "quality_metrics", "checks.participant_without_entity"):
        assert f"<b>{suite}</b>" in html
    assert "Grain: one row per article_id" in html  # each check says what it means
    assert "This run quarantined <b>1</b> input(s); 1 in all runs." in html
    timeline = svg(html, "timeline")
    assert timeline.count("<circle") == 20  # 20 dated events, one per month and type here
    assert "AGREE" in timeline and "2025-01" in timeline
    entities = svg(html, "top-entities")
    assert entities.count("<rect") == 8 and "삼성전자" in entities
    network = svg(html, "network")
    assert network.count("<circle") == 8 and network.count("<line") >= 7
    assert svg(html, "trend").count("<circle") == 2 * 4  # two runs, four measured shares


def test_pictures_are_deterministic(tmp_path, page):
    second = build(tmp_path / "w.duckdb")
    first_html, second_html = page.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")
    for chart in CHARTS:
        assert svg(first_html, chart) == svg(second_html, chart)
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "b", 3), ("b", "c", 1), ("c", "a", 2)]
    layout = charts.layout(nodes, edges, width=400, height=300)
    assert layout == charts.layout(nodes, edges, width=400, height=300)
    assert all(30 <= x <= 400 - 130 and 25 <= y <= 300 - 25 for x, y in layout.values())
    assert len(set(layout.values())) == 4


def test_failures_come_first_with_their_examples(tmp_path):
    html = build(tmp_path / "w.duckdb", broken="orphan participant").read_text(encoding="utf-8")
    failed = html[html.index("id='failures'"):html.index("id='checks'")]
    assert "checks.participant_without_entity" in failed and "FAIL" in failed
    assert "ghost:entity" in failed  # the violating row itself
    assert "NOT published: blocking checks failed" in html
    assert svg(html, "trend").count('fill="#cf222e"') == 2  # a blocking bar per run (zero height for r0)


def test_data_docs_are_built_beside_the_page_and_latest_is_a_copy(page):
    run_dir = page.parent
    docs = run_dir / "data_docs" / "index.html"
    assert docs.exists() and "dim_article" in docs.read_text(encoding="utf-8")
    assert (run_dir / "data_docs" / "static").is_symlink()  # one shared copy of GX's static files
    assert (run_dir / "data_docs" / "static" / "styles").is_dir()
    html = page.read_text(encoding="utf-8")
    assert "<a href='data_docs/index.html'>" in html and "CDN" in html
    latest = run_dir.parent / "latest"
    assert (latest / "index.html").read_bytes() == page.read_bytes()
    assert (latest / "data_docs" / "static" / "styles").is_dir()


def test_a_picture_that_fails_is_reported_in_the_page(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("layout exploded")

    monkeypatch.setattr(charts, "network", broken)
    html = build(tmp_path / "w.duckdb").read_text(encoding="utf-8")
    assert "The co-occurrence network could not be drawn: layout exploded" in html
    assert '<svg id="timeline"' in html


# --- the commands -----------------------------------------------------------------------------------------


@pytest.fixture
def runner():
    return CliRunner()


def test_report_command_prints_the_summary_and_the_page(runner, page):
    db = page.parent.parent.parent / "w.duckdb"
    result = runner.invoke(cli.app, ["report", "--db", str(db)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "run r1: success, published" in result.output
    assert re.search(r"dim_article\s+│\s+marts\.dim_article\s+│\s+11\s+│\s+11", result.output)
    assert f"report: {page}" in result.output.replace("\n", "")
    older = runner.invoke(cli.app, ["report", "--db", str(db), "--run", "r0"], env={"COLUMNS": "200"})
    assert older.exit_code == 0 and "run r0" in older.output
    assert (page.parent.parent / "r0" / "index.html").exists()  # written on demand, latest untouched
    assert (page.parent.parent / "latest" / "index.html").read_bytes() == page.read_bytes()
    unknown = runner.invoke(cli.app, ["report", "--db", str(db), "--run", "nope"])
    assert unknown.exit_code == 2 and "no run nope" in unknown.output


def test_validate_command_exit_codes(runner, tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        make_warehouse(con)
    ok = runner.invoke(cli.app, ["validate", "--db", str(db)], env={"COLUMNS": "200"})
    assert ok.exit_code == 0, ok.output
    assert "0 blocking" in ok.output
    with duckdb.connect(str(db)) as con:
        con.execute(BREAKAGES["unknown role"][0])
    bad = runner.invoke(cli.app, ["validate", "--db", str(db)], env={"COLUMNS": "200"})
    assert bad.exit_code == 1
    assert "Roles are actor, target, location or topic" in bad.output and "boss" in bad.output
    use_suites_with(tmp_path, monkeypatch, "fct_event", 0, "type", "expect_column_values_to_not_be_nul")
    typo = runner.invoke(cli.app, ["validate", "--db", str(db)])
    assert typo.exit_code == 2
    assert "fct_event.json: expectations[0]" in typo.output and "Traceback" not in typo.output


def use_suites_with(tmp_path: Path, monkeypatch, suite: str, position: int, key: str, value: str) -> None:
    """Point the CLI at a copy of the suites where one expectation's `key` is `value`."""
    suites = tmp_path / "suites"
    shutil.copytree(Settings().expectations_dir, suites)
    doc = json.loads((suites / f"{suite}.json").read_text(encoding="utf-8"))
    doc["expectations"][position][key] = value
    (suites / f"{suite}.json").write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setattr(cli, "Settings", lambda: Settings(expectations_dir=suites))


def test_run_refuses_a_broken_suite_before_writing_anything(runner, tmp_path, monkeypatch):
    use_suites_with(tmp_path, monkeypatch, "dim_entity", 1, "severity", "critcal")
    db = tmp_path / "w" / "newsetl.duckdb"
    result = runner.invoke(cli.app, ["run", "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "dim_entity.json: expectations[1]" in result.output and "critcal" in result.output
    assert "Traceback" not in result.output
    assert not db.parent.exists() or not any(db.parent.iterdir())  # no warehouse, no work file, no lock


# --- in a real browser ------------------------------------------------------------------------------------


def chromium() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.skip("no chromium found (scripts/ensure_chromium.sh installs it)")


def browse(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"  # a fresh profile each time
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
                          capture_output=True, text=True, timeout=120)


def read_png(path: Path) -> tuple[int, int, list[bytearray], int]:
    """Width, height, rows of pixel bytes and bytes per pixel of an 8-bit RGB(A) PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert depth == 8 and color_type in (2, 6)
    bpp = 3 if color_type == 2 else 4
    raw, stride, rows, prev = zlib.decompress(b"".join(idat)), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):  # undo the PNG row filters (none, sub, up, average, Paeth)
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, rows, bpp


def ink(path: Path) -> tuple[int, int]:
    """(pixels that are not white, pixels in colour): text is grey, the charts are coloured."""
    _, _, rows, bpp = read_png(path)
    dark = coloured = 0
    for row in rows:
        for x in range(0, len(row), bpp):
            r, g, b = row[x], row[x + 1], row[x + 2]
            dark += min(r, g, b) < 235
            coloured += max(r, g, b) - min(r, g, b) > 60
    return dark, coloured


def test_the_report_renders_in_chromium(tmp_path, page):
    dom = browse(tmp_path, page.as_uri(), "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    for chart in CHARTS:
        assert f'id="{chart}"' in html, f"{chart} missing from the rendered DOM"
    assert svg(html, "network").count("<circle") == 8
    assert "&lt;script&gt;alert" in html and "<script>alert" not in html  # still text after parsing
    shot = tmp_path / "report.png"
    result = browse(tmp_path, page.as_uri(), f"--screenshot={shot}", "--window-size=1100,4200")
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    width, height, _, _ = read_png(shot)
    assert (width, height) == (1100, 4200)
    dark, coloured = ink(shot)
    assert dark > 0.03 * width * height and coloured > 15_000
    shutil.copy(shot, page.parent / "report.png")  # kept beside the report for a person to look at
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><body style='background:#fff'>", encoding="utf-8")
    empty = tmp_path / "blank.png"
    browse(tmp_path, blank.as_uri(), f"--screenshot={empty}", "--window-size=400,300")
    assert ink(empty) == (0, 0)  # the measure itself tells a blank page from a drawn one


@pytest.mark.parametrize(("chart", "size", "min_coloured"), [
    ("timeline", (960, 200), 1_500), ("top-entities", (720, 190), 4_000), ("network", (960, 620), 1_000),
    ("trend", (960, 330), 300),
])
def test_each_chart_draws_pixels_in_chromium(tmp_path, page, chart, size, min_coloured):
    alone = tmp_path / f"{chart}.html"
    alone.write_text("<!doctype html><meta charset='utf-8'><body style='margin:0;background:#fff'>"
                     + svg(page.read_text(encoding="utf-8"), chart), encoding="utf-8")
    shot = tmp_path / f"{chart}.png"
    result = browse(tmp_path, alone.as_uri(), f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}")
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    _, coloured = ink(shot)
    assert coloured >= min_coloured, f"{chart}: only {coloured} coloured pixels"
