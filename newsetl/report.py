"""The validation report of a run: one self-contained HTML page (no CDN, no script, works offline).

reports/<run_id>/index.html, copied to reports/latest/: run summary, what failed with examples,
every suite's results, quarantine, and pictures (event timeline, top entities, co-occurrence
network, data-quality trend) drawn as inline SVG by newsetl.charts. Every value that comes from
the data is HTML-escaped. GX's own Data Docs are built beside it in data_docs/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb

from newsetl import charts, datadocs
from newsetl.charts import esc
from newsetl.warehouse import table_exists

TREND_RUNS = 30
TOP_ENTITIES = 20
NETWORK_NODES = 40
NETWORK_EDGES = 90
MAX_MONTHS = 96
# The warning twins of the distribution checks carry the observed share (expect_column_max_to_be_between).
SHARES = {"share_articles_without_entity": "articles without entity", "share_events_without_date":
          "events without date", "share_events_far_from_article": "events >30 y from article",
          "share_intake_quarantined": "latest intake quarantined"}
_SHARE = re.compile(r"expect_column_max_to_be_between\(column=(share_\w+)")

_CSS = """
body{font-family:system-ui,-apple-system,'Noto Sans KR','NanumGothic',sans-serif;margin:1.5rem auto;max-width:1000px;
color:#1d2330;padding:0 1rem;line-height:1.4}h1{font-size:1.5rem;margin-bottom:.2rem}
h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #d8dde6;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.82rem;margin:.4rem 0}td,th{border-bottom:1px solid #eceff4;
padding:.3rem .45rem;text-align:left;vertical-align:top}th{background:#f5f7fa}.num{text-align:right}
.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700;font-weight:600}
.badge{display:inline-block;border-radius:4px;padding:.1rem .5rem;font-weight:600;color:#fff}
.badge.ok{background:#1a7f37}.badge.bad{background:#cf222e}.badge.warn{background:#9a6700}
.cards{display:flex;gap:.8rem;flex-wrap:wrap;margin:1rem 0}.card{border:1px solid #d8dde6;border-radius:6px;
padding:.5rem .9rem;min-width:7.5rem}.card b{display:block;font-size:1.35rem}code{font-size:.78rem;word-break:break-word}
details{border:1px solid #e5e7eb;border-radius:6px;margin:.5rem 0;padding:.3rem .7rem}summary{cursor:pointer}
.legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.8rem;margin:.3rem 0}.key i{display:inline-block;
width:.8rem;height:.8rem;border-radius:50%;margin-right:.3rem;vertical-align:-1px}.note{color:#4b5563;font-size:.85rem}
.sample td,.sample th{font-size:.74rem;padding:.15rem .3rem}nav a{margin-right:.8rem}svg.chart{max-width:100%;height:auto}
.empty{color:#6b7280}.scroll{overflow-x:auto}table.checks td:nth-child(1){min-width:14rem}
tr.examples td{background:#fbfbfc;border-bottom:1px solid #d8dde6}
"""


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def run_info(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    rows = _dicts(con, "select * from audit.pipeline_runs where run_id = ?", [run_id])
    return rows[0] if rows else {"run_id": run_id}


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("select run_id from audit.pipeline_runs order by started_at desc limit 1").fetchall()
    return rows[0][0] if rows else None


def results(con: duckdb.DuckDBPyConnection, run_id: str, suites: dict[str, dict] | None = None) -> list[dict]:
    """A run's check results in the order they ran, with each suite's model and the check's description."""
    rows = _dicts(con, """select suite, expectation, severity, success, observed, unexpected_count, sample
                          from audit.validation_results where run_id = ?""", [run_id])
    suites = suite_runs(con, run_id) if suites is None else suites
    for row in rows:
        info = suites.get(row["suite"], {})
        row["model"] = info.get("model")
        row["description"] = (info.get("descriptions") or {}).get(row["expectation"])
    return rows


def suite_runs(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, dict]:
    """Per suite of a run: its model, the rows it read, its seconds and the description of each check."""
    if not table_exists(con, "audit.validation_suites"):
        return {}
    rows = _dicts(con, """select suite, model, rows_checked, seconds, descriptions from audit.validation_suites
                          where run_id = ?""", [run_id])
    for row in rows:
        row["descriptions"] = json.loads(row["descriptions"]) if row["descriptions"] else {}
    return {row["suite"]: row for row in rows}


def suite_summary(rows: list[dict]) -> list[dict]:
    """Per suite: how many checks, passed, failed as warnings, failed blocking (in order of first appearance)."""
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(r["suite"], {"suite": r["suite"], "model": r.get("model"), "checks": 0, "passed": 0,
                                        "warnings": 0, "blocking": 0})
        s["checks"] += 1
        if r["success"]:
            s["passed"] += 1
        elif r["severity"] == "error":
            s["blocking"] += 1
        else:
            s["warnings"] += 1
    return list(out.values())


def _state(info: dict) -> tuple[str, str]:
    status = info.get("status")
    if status == "success":
        return "ok", "published" if info.get("published") else "passed (not yet published)"
    if status == "failed":
        return "bad", "NOT published: blocking checks failed; the previous marts are still served"
    if status == "error":
        return "bad", "NOT published: a model failed to build"
    return "warn", str(status or "unknown")


def _sample_html(sample: str | None) -> str:
    if not sample:
        return ""
    try:
        items = json.loads(sample)
    except json.JSONDecodeError:
        return f"<code>{esc(sample)}</code>"
    if items and all(isinstance(i, dict) for i in items):
        cols: list[str] = []
        for item in items:
            cols += [k for k in item if k not in cols]
        cols = cols[:8]
        head = "".join(f"<th>{esc(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{esc(_cell(i.get(c)))}</td>" for c in cols) + "</tr>" for i in items)
        return f"<table class='sample'><tr>{head}</tr>{body}</table>"
    return "<code>" + esc(", ".join(_cell(i) for i in items)) + "</code>"


def _cell(value) -> str:
    if value is None:
        return "∅"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _result_rows(rows: list[dict], *, with_suite: bool) -> str:
    """Checks as table rows; a failure's examples go in a full-width row below it (they are tables too)."""
    width = 5 if with_suite else 4
    head = ("<th>suite</th>" if with_suite else "") + "<th>check</th><th>severity</th><th>result</th><th>observed</th>"
    out = [f"<table class='checks'><tr>{head}</tr>"]
    for r in rows:
        klass = "ok" if r["success"] else ("bad" if r["severity"] == "error" else "warn")
        verdict = "pass" if r["success"] else ("FAIL" if r["severity"] == "error" else "warn")
        what = (f"{esc(r['description'])}<br>" if r.get("description") else "") + f"<code>{esc(r['expectation'])}</code>"
        unexpected = (f" ({r['unexpected_count']:,} unexpected)" if r.get("unexpected_count")
                      and "unexpected" not in str(r["observed"]) else "")
        out.append("<tr>" + (f"<td>{esc(r['suite'])}</td>" if with_suite else "")
                   + f"<td>{what}</td><td>{'critical' if r['severity'] == 'error' else 'warning'}</td>"
                   f"<td class='{klass}'>{verdict}</td><td>{esc(r['observed'])}{esc(unexpected)}</td></tr>")
        if not r["success"] and r.get("sample"):
            out.append(f"<tr class='examples'><td colspan='{width}'><span class='note'>failing examples</span>"
                       f"<div class='scroll'>{_sample_html(r['sample'])}</div></td></tr>")
    out.append("</table>")
    return "".join(out)


def _checks_section(rows: list[dict], runs: dict[str, dict]) -> str:
    if not rows:
        return ("<h2 id='failures'>What failed</h2><p class='empty'>No checks ran in this run (see the message "
                "above).</p><h2 id='checks'>Suites</h2><p class='empty'>No checks ran.</p>")
    failed = sorted((r for r in rows if not r["success"]), key=lambda r: r["severity"] != "error")
    out = ["<h2 id='failures'>What failed</h2>"]
    out.append(_result_rows(failed, with_suite=True) if failed else "<p class='ok'>Every check passed.</p>")
    out.append("<h2 id='checks'>Suites</h2><p class='note'>Critical checks block publishing; warnings are "
               "reported only. Rows are those the suite read from its model.</p>")
    for s in suite_summary(rows):
        info = runs.get(s["suite"], {})
        parts = []
        if s["blocking"]:
            parts.append(f"<span class='bad'>{s['blocking']} blocking</span>")
        if s["warnings"]:
            parts.append(f"<span class='warn'>{s['warnings']} warning(s)</span>")
        verdict = " ".join(parts) or "<span class='ok'>all passed</span>"
        meta = f"{s['checks']} checks"
        if info.get("rows_checked") is not None:
            meta += f", {info['rows_checked']:,} rows, {info['seconds']:.2f}s"
        open_ = " open" if s["blocking"] or s["warnings"] else ""
        suite_rows = [r for r in rows if r["suite"] == s["suite"]]
        out.append(f"<details{open_}><summary><b>{esc(s['suite'])}</b> <span class='note'>{esc(s['model'] or '')}"
                   f" · {esc(meta)}</span> · {verdict}</summary>{_result_rows(suite_rows, with_suite=False)}</details>")
    return "".join(out)


def _quarantine_section(con, run_id: str) -> str:
    out = ["<h2 id='quarantine'>Quarantine</h2>"]
    if not table_exists(con, "raw.quarantine"):
        return out[0] + "<p class='empty'>No quarantine table.</p>"
    this_run = con.execute("select reason, count(*) from raw.quarantine where run_id = ? group by 1 "
                           "order by 2 desc, 1", [run_id]).fetchall()
    every = con.execute("select reason, count(*) from raw.quarantine group by 1 order by 2 desc, 1").fetchall()
    out.append(f"<p>This run quarantined <b>{sum(n for _, n in this_run)}</b> input(s); "
               f"{sum(n for _, n in every)} in all runs.</p>")
    if this_run:
        out.append("<h3>This run, by reason</h3>" + charts.bars("quarantine-run", this_run, label="quarantine by reason",
                                                              colors=["#cf6f22"] * len(this_run)))
        recent = con.execute("select source_path, source_record, reason, detail from raw.quarantine where run_id = ? "
                             "order by source_path, source_record limit 50", [run_id]).fetchall()
        out.append("<table><tr><th>file</th><th>record</th><th>reason</th><th>detail</th></tr>" + "".join(
            f"<tr><td><code>{esc(p)}</code></td><td>{esc(r)}</td><td>{esc(w)}</td><td>{esc(d)}</td></tr>"
            for p, r, w, d in recent) + "</table>")
    if every:
        out.append("<h3>All runs, by reason</h3>" + charts.bars("quarantine-all", every, label="quarantine, all runs",
                                                              colors=["#9a6a4a"] * len(every)))
    return "".join(out)


def _months(lo: date, hi: date) -> list[str]:
    months, y, m = [], lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months[-MAX_MONTHS:]


def _timeline_section(con) -> str:
    out = ["<h2 id='timeline'>Event timeline by type</h2>"]
    if not table_exists(con, "marts.fct_event"):
        return out[0] + "<p class='empty'>No events table.</p>"
    totals = dict(con.execute("select event_type, count(*) from marts.fct_event group by 1").fetchall())
    lo, hi = con.execute("select quantile_disc(event_date, 0.01), quantile_disc(event_date, 0.99) "
                         "from marts.fct_event where event_date is not null").fetchall()[0]
    if lo is None:
        return "".join(out) + charts.timeline("timeline", [], [], totals) + "<p class='note'>No event has a date.</p>"
    months = _months(lo, hi)
    cells = con.execute("select strftime(event_date, '%Y-%m'), event_type, count(*) from marts.fct_event "
                        "where event_date is not null group by all order by 1, 2").fetchall()
    window = set(months)
    drawn = sum(c for m, _, c in cells if m in window)
    dated = sum(c for _, _, c in cells)
    out.append(charts.timeline("timeline", cells, months, totals, label="events per month and type"))
    out.append(f"<p class='note'>{drawn:,} dated events drawn ({months[0]} to {months[-1]}); "
               f"{dated - drawn:,} dated outside that window (the 1st to 99th percentile of dates) and "
               f"{sum(totals.values()) - dated:,} without a date are counted in the totals on the right.</p>")
    return "".join(out)


def _entities_section(con) -> str:
    out = ["<h2 id='entities'>Top entities</h2>"]
    if not table_exists(con, "marts.dim_entity"):
        return out[0] + "<p class='empty'>No entities table.</p>"
    top = con.execute("select name, entity_type, article_count from marts.dim_entity "
                      f"order by article_count desc, mention_count desc, entity_id limit {TOP_ENTITIES}").fetchall()
    out.append("<p class='note'>By number of articles that mention them.</p>")
    out.append(charts.legend(charts.ENTITY_COLORS, sorted({t for _, t, _ in top})))
    out.append(charts.bars("top-entities", [(n, c) for n, _, c in top], label="top entities by articles",
                           colors=[charts.color(charts.ENTITY_COLORS, t) for _, t, _ in top]))
    return "".join(out)


def _network_section(con) -> str:
    out = ["<h2 id='network'>Who appears with whom</h2>"]
    if not (table_exists(con, "marts.dim_entity") and table_exists(con, "marts.fct_entity_mention")):
        return out[0] + "<p class='empty'>No entities table.</p>"
    nodes = con.execute("select entity_id, name, entity_type, article_count from marts.dim_entity "
                        f"order by article_count desc, mention_count desc, entity_id limit {NETWORK_NODES}").fetchall()
    edges = con.execute(f"""
        with top as (
            select entity_id from marts.dim_entity
            order by article_count desc, mention_count desc, entity_id limit {NETWORK_NODES}
        ),
        pairs as (
            select distinct article_id, entity_id from marts.fct_entity_mention
            where entity_id in (select entity_id from top)
        ),
        links as (
            select a.entity_id as a, b.entity_id as b, count(*) as articles
            from pairs as a inner join pairs as b on a.article_id = b.article_id and a.entity_id < b.entity_id
            group by all
        ),
        ends as (
            select a, b, articles, a as entity_id from links
            union all
            select a, b, articles, b as entity_id from links
        ),
        strongest as (  -- every entity keeps its strongest link, so none floats alone
            select a, b, articles from ends
            qualify row_number() over (partition by entity_id order by articles desc, a, b) = 1
        ),
        strongest_overall as (
            select a, b, articles from links order by articles desc, a, b limit {NETWORK_EDGES}
        )
        select * from strongest_overall
        union
        select * from strongest
        order by articles desc, a, b""").fetchall()
    out.append(f"<p class='note'>The {len(nodes)} entities in most articles; a line joins two that appear in the "
               f"same articles (thicker: more articles; the strongest links, and each entity's strongest). "
               "Same data, same picture.</p>")
    out.append(charts.legend(charts.ENTITY_COLORS, sorted({n[2] for n in nodes})))
    out.append(charts.network("network", nodes, edges, label="entity co-occurrence network"))
    return "".join(out)


def trend_data(con, run_id: str) -> tuple[list[str], dict[str, list[float | None]], list[tuple[int, int]]]:
    """Up to TREND_RUNS runs ending with this one: observed shares and failed checks per run."""
    runs = _dicts(con, f"""select run_id, started_at from audit.pipeline_runs
                           where started_at <= coalesce((select started_at from audit.pipeline_runs
                                                         where run_id = ?), now())
                           order by started_at desc limit {TREND_RUNS}""", [run_id])[::-1]
    ids = [r["run_id"] for r in runs]
    series: dict[str, list[float | None]] = {label: [None] * len(ids) for label in SHARES.values()}
    failures = [(0, 0)] * len(ids)
    if not ids:
        return [], series, failures
    index = {rid: i for i, rid in enumerate(ids)}
    rows = con.execute(f"""select run_id, expectation, severity, success, observed
                           from audit.validation_results where run_id in ({', '.join('?' * len(ids))})""",
                       ids).fetchall()
    counts = [[0, 0] for _ in ids]
    for rid, expectation, severity, success, observed in rows:
        i = index[rid]
        if not success:
            counts[i][1 if severity == "error" else 0] += 1
        match = _SHARE.match(expectation)
        if match and match.group(1) in SHARES:
            try:
                series[SHARES[match.group(1)]][i] = float(observed)
            except (TypeError, ValueError):
                pass
    labels = [r["started_at"].strftime("%m-%d %H:%M") if r["started_at"] else r["run_id"] for r in runs]
    return labels, {k: v for k, v in series.items() if any(x is not None for x in v)}, [tuple(c) for c in counts]


def _trend_section(con, run_id: str) -> str:
    labels, series, failures = trend_data(con, run_id)
    out = ["<h2 id='trend'>Data quality across runs</h2>",
           f"<p class='note'>The last {len(labels)} run(s), oldest first. Lines: shares measured by "
           "checks.quality_metrics. Bars: failed checks per run (red: blocking, amber: warnings).</p>"]
    if series:
        out.append(charts.legend({k: charts.SERIES_COLORS[i % len(charts.SERIES_COLORS)]
                                  for i, k in enumerate(series)}, list(series)))
    out.append(charts.trend("trend", labels, series, failures, label="data quality across runs"))
    return "".join(out)


def _models_section(con, run_id: str) -> str:
    if not table_exists(con, "audit.model_runs"):
        return ""
    rows = con.execute("""select model, status, rows, seconds, error from audit.model_runs
                          where run_id = ? and kind not in ('seed', 'source')""", [run_id]).fetchall()
    if not rows:
        return ""
    body = "".join(f"<tr><td>{esc(m)}</td><td class='{'ok' if s == 'success' else 'bad'}'>{esc(s)}</td>"
                   f"<td class='num'>{esc('' if n is None else f'{n:,}')}</td>"
                   f"<td class='num'>{esc('' if t is None else f'{t:.2f}')}</td><td>{esc(e or '')}</td></tr>"
                   for m, s, n, t, e in rows)
    return (f"<details><summary><b>Models built in this run</b> <span class='note'>({len(rows)})</span></summary>"
            f"<table><tr><th>model</th><th>status</th><th>rows</th><th>seconds</th><th>error</th></tr>{body}"
            "</table></details>")


def _section(name: str, draw) -> str:
    """A picture that cannot be drawn says so in the page instead of stopping the run before publishing."""
    try:
        return draw()
    except Exception as err:  # noqa: BLE001 - the report must not block a run whose checks passed
        return f"<p class='bad'>The {esc(name)} could not be drawn: {esc(str(err).splitlines()[0] if str(err) else err)}</p>"


def render(con: duckdb.DuckDBPyConnection, run_id: str, *, data_docs: str | None = None) -> str:
    """The page of a run; `data_docs` says whether GX's Data Docs were built beside it, or why not."""
    info = run_info(con, run_id)
    suites = suite_runs(con, run_id)
    rows = results(con, run_id, suites)
    klass, state = _state(info)
    summary = suite_summary(rows)
    passed = sum(s["passed"] for s in summary)
    warnings = sum(s["warnings"] for s in summary)
    blocking = sum(s["blocking"] for s in summary)
    counts = json.loads(info["counts"]) if info.get("counts") else {}
    seconds = (info["finished_at"] - info["started_at"]).total_seconds() if info.get("finished_at") else None
    cards = [("new articles", info.get("articles_new")), ("quarantined", info.get("quarantined_new")),
             ("articles", counts.get("marts.dim_article")), ("entities", counts.get("marts.dim_entity")),
             ("events", counts.get("marts.fct_event")), ("checks passed", passed), ("warnings", warnings),
             ("blocking", blocking), ("seconds", None if seconds is None else f"{seconds:.1f}")]
    out = [f"<!doctype html><html lang='ko'><head><meta charset='utf-8'>"
           f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
           f"<title>newsetl run {esc(run_id)}</title><style>{_CSS}</style></head><body>",
           f"<h1>newsetl validation report</h1><p>Run <code>{esc(run_id)}</code> · started "
           f"{esc(str(info.get('started_at') or '')[:19])} · <span class='badge {klass}'>{esc(state)}</span></p>"]
    if info.get("message"):
        out.append(f"<p class='{klass}'>{esc(info['message'])}</p>")
    out.append("<div class='cards'>" + "".join(
        f"<div class='card'><b>{esc('–' if v is None else (f'{v:,}' if isinstance(v, int) else v))}</b>{esc(k)}</div>"
        for k, v in cards) + "</div>")
    out.append("<nav><a href='#failures'>failures</a><a href='#checks'>suites</a><a href='#trend'>trend</a>"
               "<a href='#quarantine'>quarantine</a><a href='#timeline'>timeline</a><a href='#entities'>entities</a>"
               "<a href='#network'>network</a><a href='#data-docs'>Data Docs</a></nav>")
    out.append(_models_section(con, run_id))
    out.append(_checks_section(rows, suites))
    out.append(_section("data-quality trend", lambda: _trend_section(con, run_id)))
    out.append(_section("quarantine summary", lambda: _quarantine_section(con, run_id)))
    out.append(_section("event timeline", lambda: _timeline_section(con)))
    out.append(_section("top entities", lambda: _entities_section(con)))
    out.append(_section("co-occurrence network", lambda: _network_section(con)))
    out.append("<h2 id='data-docs'>Great Expectations Data Docs</h2>")
    if data_docs == "built":
        out.append("<p>GX's own pages for this run: <a href='data_docs/index.html'>data_docs/index.html</a>. "
                   "They load jQuery, Bootstrap and Vega from CDNs, so without internet access they show "
                   "unstyled; this page needs nothing from outside.</p>")
    else:
        out.append(f"<p class='note'>{esc(data_docs or 'No Data Docs for this run.')}</p>")
    out.append(f"<p class='note'>Generated {esc(datetime.now().isoformat(timespec='seconds'))} by newsetl.</p>"
               "</body></html>")
    return "\n".join(out)


def write(con: duckdb.DuckDBPyConnection, reports_dir: Path, run_id: str, *, latest: bool = True) -> Path:
    """Write reports/<run_id>/index.html with data_docs/ beside it; refresh reports/latest/; return the page."""
    run_dir = reports_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    docs_dir = run_dir / "data_docs"
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    try:
        built = datadocs.build(con, run_id, docs_dir, started_at=run_info(con, run_id).get("started_at"))
        docs = "built" if built else "No Data Docs for this run: it kept no GX results (no checks ran)."
    except Exception as err:  # noqa: BLE001 - GX's pages are extra; our page says what went wrong
        docs = f"GX's Data Docs could not be built: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    page = run_dir / "index.html"
    page.write_text(render(con, run_id, data_docs=docs), encoding="utf-8")
    if latest:
        _replace_dir(run_dir, reports_dir / "latest")
    return page


def _replace_dir(source: Path, target: Path) -> None:
    """Copy source over target with a rename, so a reader never finds reports/latest/ half-written."""
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(source, staging, symlinks=True)
    old = target.with_name(f".{target.name}.old.{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    if old.exists():
        shutil.rmtree(old)
