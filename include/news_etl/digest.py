"""The daily digest: one self-contained HTML page a newsroom reads in the morning.

The day's top stories (story clusters: headline, outlets, links), volume per source over the last
14 days (an inline SVG chart: no scripts, no external files; the TOP_SOURCES busiest sources in
colours of their own and the rest as "others", so it stays readable however many sources there
are), the top watched terms of the day with their change against the 7 days before (a spike
flagged), and the day's data-quality summary. Written by the news_digest DAG after each load, or
by `news-etl digest --date D`.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from html import escape
from pathlib import Path

import psycopg2.extras

from news_etl import warehouse

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
_OTHERS_COLOUR = "#b0b0b0"
TOP_SOURCES = len(_COLOURS)  # sources with a colour of their own; the others share one bar
# A term is spiking when its mentions on the day are at least SPIKE_RATIO times its daily average
# over the 7 days before, and at least SPIKE_MIN (a term going from 0 to 1 is no news).
SPIKE_RATIO, SPIKE_MIN = 2.0, 3


def digest_data(conn, day: date) -> dict:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        data = {}
        for name in ("top_stories", "volume_14_days", "top_terms", "dq_summary"):
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
.spike {{ color: #b00; font-weight: bold; }} ol.stories li {{ margin-bottom: .6rem; }} ol.stories ul {{ margin: .2rem 0; }}
</style></head>
<body>
<h1>News digest for {day}</h1>
<p class="muted">Generated {generated} from the news warehouse.</p>
<h2>Top stories first published on {day}</h2>
{stories_list(data["top_stories"])}
<h2>Articles per source, last 14 days</h2>
{volume_chart(data["volume_14_days"])}
<h2>Top watched terms on {day}</h2>
{terms_table(data["top_terms"])}
<h2>Data quality on {day}</h2>
{dq_table(data["dq_summary"])}
</body></html>
"""


def stories_list(rows: list[dict]) -> str:
    if not rows:
        return "<p>No story was first published on this day.</p>"
    items = []
    for r in rows:
        links = "".join(f'<li>{escape(src)}: <a href="{escape(url)}">{escape(title)}</a></li>'
                        for src, title, url in zip(r["sources"], r["titles"], r["urls"]))
        outlets = f"{r['outlets']} outlet{'s' if r['outlets'] != 1 else ''}"
        items.append(f"<li><strong>{escape(r['headline'] or '')}</strong> "
                     f"<span class='muted'>{outlets}, first {r['first_published_at']:%H:%M} UTC</span>"
                     f"<ul>{links}</ul></li>")
    return f"<ol class='stories'>{''.join(items)}</ol>"


def axis_ticks(peak: int, lines: int = 4) -> list[int]:
    """Whole-number gridlines from 0 to at least `peak`, about `lines` of them, a step of 1, 2 or 5
    times a power of ten: each line stands where its label says (never 2.5 labelled 2)."""
    raw = max(peak, 1) / lines
    magnitude = 10 ** max(0, len(str(int(raw))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    top = -(-max(peak, 1) // step) * step
    return list(range(0, top + 1, step))


def chart_series(rows: list[dict]) -> tuple[list, list[tuple[str, str, tuple[str, ...]]], dict]:
    """Days, the series drawn (label, colour, sources in it) and counts per (day, label): the
    TOP_SOURCES sources with most articles over the period, then the rest as one "others"."""
    days = sorted({r["day"] for r in rows})
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["source"]] = totals.get(r["source"], 0) + r["articles"]
    ranked = sorted(totals, key=lambda s: (-totals[s], s))
    top = ranked if len(ranked) <= TOP_SOURCES + 1 else ranked[:TOP_SOURCES]
    series = [(s, _COLOURS[i % len(_COLOURS)] if i < len(_COLOURS) else _OTHERS_COLOUR, (s,))
              for i, s in enumerate(sorted(top))]
    rest = tuple(sorted(set(ranked) - set(top)))
    if rest:
        series.append((f"others ({len(rest)} sources)", _OTHERS_COLOUR, rest))
    label_of = {s: label for label, _, members in series for s in members}
    counts: dict[tuple, int] = {}
    for r in rows:
        key = (r["day"], label_of[r["source"]])
        counts[key] = counts.get(key, 0) + r["articles"]
    return days, series, counts


def volume_chart(rows: list[dict]) -> str:
    """Grouped bars: one group per day, one bar per source (or "others"), with a legend."""
    if not rows:
        return "<p>No sources yet.</p>"
    days, series, counts = chart_series(rows)
    ticks = axis_ticks(max(counts.values()))
    peak = ticks[-1]
    width, left, top, plot_height = 860, 40, 20, 200
    group = (width - left) / len(days)
    bar = max(2.0, (group - 6) / len(series))
    legend_top = top + plot_height + 30
    parts = [f'<svg role="img" aria-label="Articles per source and day" width="{width}" '
             f'height="{legend_top + 20 * len(series)}" xmlns="http://www.w3.org/2000/svg" font-size="11">']
    for tick in ticks:
        y = top + plot_height * (1 - tick / peak)
        parts.append(f'<text class="tick" x="4" y="{y + 4:.0f}">{tick}</text>'
                     f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
    for i, d in enumerate(days):
        x0 = left + i * group + 3
        for j, (label, colour, _) in enumerate(series):
            n = counts.get((d, label), 0)
            h = plot_height * n / peak
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_height - h:.1f}" width="{bar - 1:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}, {d}: {n}</title></rect>')
        parts.append(f'<text x="{x0:.0f}" y="{top + plot_height + 14}">{d:%d %b}</text>')
    for j, (label, colour, members) in enumerate(series):
        y = legend_top + 20 * j
        named = label if len(members) == 1 else f"{label}: {', '.join(members)}"
        parts.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="{colour}"/>'
                     f'<text class="legend" x="{left + 18}" y="{y + 10}">{escape(named)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def is_spike(mentions: int, average: float) -> bool:
    return mentions >= SPIKE_MIN and mentions >= SPIKE_RATIO * float(average)


def terms_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>No watched term was mentioned.</p>"
    body = []
    for r in rows:
        average = float(r["mentions_7d_avg"])
        change = (f"{(r['mentions'] - average) / average:+.0%}" if average else "new")
        flag = "<span class='spike'>spike</span>" if is_spike(r["mentions"], average) else ""
        body.append(f"<tr><td>{escape(r['term'])}</td><td>{escape(r['kind'])}</td><td class='n'>{r['articles']}</td>"
                    f"<td class='n'>{r['mentions']}</td><td class='n'>{r['sources']}</td>"
                    f"<td class='n'>{average:.1f}</td><td class='n'>{change}</td><td>{flag}</td></tr>")
    return (f"<table><tr><th>term</th><th>kind</th><th>articles</th><th>mentions</th><th>sources</th>"
            f"<th>mentions a day, 7 days before</th><th>change</th><th></th></tr>{''.join(body)}</table>")


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
