"""The validation report of a run: one self-contained HTML page (no CDN, works offline).

Every value that comes from the data is HTML-escaped; charts are inline SVG.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import duckdb

from newsetl.warehouse import first_row, table_exists

_CSS = """
body{font-family:system-ui,-apple-system,'Noto Sans KR',sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d8dde6;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}td,th{border-bottom:1px solid #eceff4;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f5f7fa}.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}
.warn{color:#9a6700}.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d8dde6;border-radius:6px;
padding:.6rem 1rem;min-width:8rem}.card b{display:block;font-size:1.4rem}code{font-size:.8rem;word-break:break-all}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _bars(items: list[tuple[str, int]], *, width: int = 640, color: str = "#3b6fd8") -> str:
    """A horizontal bar chart as inline SVG."""
    if not items:
        return "<p>No data.</p>"
    top = max(v for _, v in items) or 1
    row_h, label_w = 22, 200
    parts = [f'<svg role="img" width="{width}" height="{row_h * len(items) + 4}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(items):
        w = max(1, int((width - label_w - 60) * value / top))
        y = i * row_h
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{_e(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 8}" fill="{color}"/>'
                     f'<text x="{label_w + w + 6}" y="{y + 15}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    run = first_row(con, "select * from audit.pipeline_runs where run_id = ?", [run_id])
    cols = [d[0] for d in con.description] if run else []
    info = dict(zip(cols, run)) if run else {}
    results = _rows(con, """select suite, expectation, severity, success, observed, unexpected_count, sample
                            from audit.validation_results where run_id = ? order by success, severity, suite""",
                    [run_id])
    failed = sum(1 for r in results if not r[3])
    blocking = sum(1 for r in results if not r[3] and r[2] == "error")
    cards = [("articles new", info.get("articles_new")), ("quarantined new", info.get("quarantined_new")),
             ("checks passed", len(results) - failed), ("checks failed", failed), ("blocking", blocking),
             ("status", info.get("status"))]
    out = [f"<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>newsetl run {_e(run_id)}</title>"
           f"<style>{_CSS}</style></head><body>",
           f"<h1>newsetl validation report</h1><p>Run <code>{_e(run_id)}</code> started {_e(info.get('started_at'))}"
           f", finished {_e(info.get('finished_at'))}.</p>",
           "<div class='cards'>" + "".join(f"<div class='card'><b>{_e(v)}</b>{_e(k)}</div>" for k, v in cards) + "</div>"]
    out.append("<h2>Checks</h2><table><tr><th>suite</th><th>expectation</th><th>severity</th><th>result</th>"
               "<th>observed</th><th>unexpected</th><th>examples</th></tr>")
    for suite, exp, sev, ok, observed, unexpected, sample in results:
        klass = "ok" if ok else ("bad" if sev == "error" else "warn")
        out.append(f"<tr><td>{_e(suite)}</td><td><code>{_e(exp)}</code></td><td>{_e(sev)}</td>"
                   f"<td class='{klass}'>{'pass' if ok else 'FAIL'}</td><td>{_e(observed)}</td>"
                   f"<td>{_e(unexpected)}</td><td><code>{_e(sample)}</code></td></tr>")
    out.append("</table>")
    if table_exists(con, "raw.quarantine"):
        reasons = _rows(con, "select reason, count(*) from raw.quarantine group by 1 order by 2 desc")
        out.append("<h2>Quarantine (all runs)</h2>" + _bars([(r, n) for r, n in reasons], color="#cf6f22"))
        recent = _rows(con, "select source_path, source_record, reason, detail from raw.quarantine "
                            "where run_id = ? order by source_path limit 50", [run_id])
        if recent:
            out.append("<table><tr><th>file</th><th>record</th><th>reason</th><th>detail</th></tr>" + "".join(
                f"<tr><td><code>{_e(p)}</code></td><td>{_e(r)}</td><td>{_e(w)}</td><td>{_e(d)}</td></tr>"
                for p, r, w, d in recent) + "</table>")
    if table_exists(con, "marts.fct_event"):
        by_type = _rows(con, "select event_type, count(*) from marts.fct_event group by 1 order by 2 desc")
        out.append("<h2>Events by type</h2>" + _bars(by_type))
        by_month = _rows(con, """select strftime(event_date, '%Y-%m'), count(*) from marts.fct_event
                                 where event_date is not null group by 1 order by 1 desc limit 24""")
        out.append("<h2>Event timeline (by month, latest first)</h2>" + _bars(by_month, color="#2a9d8f"))
    if table_exists(con, "marts.dim_entity"):
        top = _rows(con, """select name || ' (' || entity_type || ')', article_count from marts.dim_entity
                            order by article_count desc, mention_count desc limit 20""")
        out.append("<h2>Top entities by articles</h2>" + _bars(top, color="#7a4fd8"))
    out.append("</body></html>")
    return "\n".join(out)


def write(con: duckdb.DuckDBPyConnection, reports_dir: Path, run_id: str) -> Path:
    """Write reports/<run_id>/index.html and refresh reports/latest/; returns the run's page."""
    page = render(con, run_id)
    run_dir = reports_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    latest = reports_dir / "latest"
    if latest.exists():
        shutil.rmtree(latest)
    shutil.copytree(run_dir, latest)
    return path
