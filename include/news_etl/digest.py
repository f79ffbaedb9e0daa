"""The daily digest: one self-contained HTML page a newsroom reads in the morning.

Volume per source over the last 14 days (an inline SVG chart: no scripts, no external files),
the top watched terms of the day, and the day's data-quality summary. Written by the news_digest
DAG after each load, or by `news-etl digest --date D`.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from html import escape
from pathlib import Path

import psycopg2.extras

from news_etl import warehouse

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def digest_data(conn, day: date) -> dict:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        data = {}
        for name in ("volume_14_days", "top_terms", "dq_summary"):
            cur.execute(warehouse.sql_file(f"reports/{name}.sql"), {"day": day})
            data[name] = [dict(r) for r in cur.fetchall()]
    return data


def write_digest(dsn: str, day: date, folder: Path) -> Path:
    with warehouse.connect(dsn) as conn:
        data = digest_data(conn, day)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"digest-{day.isoformat()}.html"
    path.write_text(render(day, data), encoding="utf-8")
    return path


def render(day: date, data: dict) -> str:
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>News digest {day}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }} td, th {{ padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: left; }}
td.n {{ text-align: right; }} .bad {{ color: #b00; font-weight: bold; }} .muted {{ color: #777; }}
</style></head>
<body>
<h1>News digest for {day}</h1>
<p class="muted">Generated {generated} from the news warehouse.</p>
<h2>Articles per source, last 14 days</h2>
{volume_chart(data["volume_14_days"])}
<h2>Top watched terms on {day}</h2>
{terms_table(data["top_terms"])}
<h2>Data quality on {day}</h2>
{dq_table(data["dq_summary"])}
</body></html>
"""


def volume_chart(rows: list[dict]) -> str:
    """Grouped bars: one group per day, one bar per source, with a legend."""
    if not rows:
        return "<p>No sources yet.</p>"
    days = sorted({r["day"] for r in rows})
    sources = sorted({r["source"] for r in rows})
    counts = {(r["day"], r["source"]): r["articles"] for r in rows}
    peak = max(counts.values()) or 1
    width, left, top, plot_height = 860, 40, 20, 200
    group = (width - left) / len(days)
    bar = max(2.0, (group - 6) / len(sources))
    legend_top = top + plot_height + 30
    parts = [f'<svg role="img" aria-label="Articles per source and day" width="{width}" '
             f'height="{legend_top + 20 * len(sources)}" xmlns="http://www.w3.org/2000/svg" font-size="11">']
    for tick in range(5):
        y = top + plot_height * (1 - tick / 4)
        parts.append(f'<text x="4" y="{y + 4:.0f}">{round(peak * tick / 4)}</text>'
                     f'<line x1="{left}" x2="{width}" y1="{y:.0f}" y2="{y:.0f}" stroke="#eee"/>')
    for i, d in enumerate(days):
        x0 = left + i * group + 3
        for j, s in enumerate(sources):
            n = counts.get((d, s), 0)
            h = plot_height * n / peak
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_height - h:.1f}" width="{bar - 1:.1f}" '
                         f'height="{h:.1f}" fill="{_COLOURS[j % len(_COLOURS)]}"><title>{escape(s)}, {d}: {n}</title></rect>')
        parts.append(f'<text x="{x0:.0f}" y="{top + plot_height + 14}">{d:%d %b}</text>')
    for j, s in enumerate(sources):
        y = legend_top + 20 * j
        parts.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="{_COLOURS[j % len(_COLOURS)]}"/>'
                     f'<text x="{left + 18}" y="{y + 10}">{escape(s)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def terms_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>No watched term was mentioned.</p>"
    body = "".join(f"<tr><td>{escape(r['term'])}</td><td>{escape(r['kind'])}</td><td class='n'>{r['articles']}</td>"
                   f"<td class='n'>{r['mentions']}</td><td class='n'>{r['sources']}</td></tr>" for r in rows)
    return (f"<table><tr><th>term</th><th>kind</th><th>articles</th><th>mentions</th><th>sources</th></tr>"
            f"{body}</table>")


def dq_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>No checks ran on this day.</p>"
    body = "".join(
        f"<tr><td>{escape(r['source'])}</td><td class='{'bad' if r['run_status'] not in ('success', 'unchanged', None) else ''}'>"
        f"{escape(str(r['run_status']))}</td><td class='n'>{r['rows_checked'] or 0}</td>"
        f"<td class='n'>{r['rows_quarantined']}</td><td>{escape(', '.join(r['failed'])) or '—'}</td></tr>"
        for r in rows)
    return (f"<table><tr><th>source</th><th>run</th><th>rows checked</th><th>quarantined</th>"
            f"<th>failed checks</th></tr>{body}</table>")
