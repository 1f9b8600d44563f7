"""Progress over many sessions as one self-contained HTML page: charts in inline SVG, no script, no network."""

from __future__ import annotations

from mock_interview.history import History, SessionSummary, Trends
from mock_interview.report.html import BASE_STYLE, SECTION_COLOURS, csp_hash, esc, page_head
from mock_interview.report.model import clock, when
from mock_interview.scenario import SECTION_IDS

STYLE = (
    BASE_STYLE
    + """
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: .8rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.num, th.num { text-align: right; }
.over { color: #c62828; } .under { color: #b86e00; } .missing { color: #c62828; font-weight: 600; }
.skipped li { color: #b86e00; }
"""
)
CSP = f"default-src 'none'; style-src {csp_hash(STYLE)}; base-uri 'none'; form-action 'none'"
CHART_W, CHART_H, PAD_L, PAD_B, PAD_T = 300, 158, 42, 22, 18


def _x(i: int, n: int) -> float:
    plot = CHART_W - PAD_L - 10
    return PAD_L + (plot / 2 if n == 1 else i * plot / (n - 1))


def _section_chart(section: str, sessions: list[SessionSummary]) -> str:
    """One section's time in each session (dots and a line) against its target (dashed)."""
    times = [next((t for t in s.sections if t.id == section), None) for s in sessions]
    top = max([t.target_s * 1.5 for t in times if t] + [t.duration_s or 0 for t in times if t] + [1.0])
    plot_h = CHART_H - PAD_B - PAD_T

    def y(seconds: float) -> float:
        return PAD_T + plot_h * (1 - seconds / top)

    n = len(sessions)
    colour = SECTION_COLOURS.get(section, "#888")
    parts = [
        f'<svg viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="{esc(section)}: seconds per session">',
        f'<text x="0" y="11" font-weight="600">{esc(section.capitalize())}</text>',
        f'<line x1="{PAD_L}" x2="{CHART_W - 10}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#c9ced4"/>',
        f'<text class="dim" x="{PAD_L - 4}" y="{y(0):.1f}" text-anchor="end">0</text>',
        f'<text class="dim" x="{PAD_L - 4}" y="{y(top) + 9:.1f}" text-anchor="end">{top:.0f} s</text>',
    ]
    targets = [(_x(i, n), y(t.target_s)) for i, t in enumerate(times) if t]
    if targets:
        points = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in targets)
        parts.append(
            f'<polyline class="target" points="{points}" fill="none" stroke="#1d232a" stroke-dasharray="4 3"/>'
        )
    dots: list[str] = []
    runs: list[list[str]] = [[]]  # the line breaks where a section was missing
    for i, t in enumerate(times):
        x = _x(i, n)
        if t is None or t.duration_s is None:
            runs.append([])
            if t is not None:  # the answer missed the section: a cross on the axis
                dots.append(
                    f'<text class="missing" x="{x:.1f}" y="{y(0) + 4:.1f}" text-anchor="middle" fill="#c62828">×'
                    f"<title>{esc(sessions[i].id)}: missing</title></text>"
                )
            continue
        runs[-1].append(f"{x:.1f},{y(t.duration_s):.1f}")
        dots.append(
            f'<circle class="time" cx="{x:.1f}" cy="{y(t.duration_s):.1f}" r="3.5" fill="{colour}">'
            f"<title>{esc(sessions[i].id)}: {t.duration_s:.1f} s, target {t.target_s:.0f} s</title></circle>"
        )
    parts += [
        f'<polyline points="{" ".join(r)}" fill="none" stroke="{colour}" stroke-width="2"/>' for r in runs if len(r) > 1
    ]
    parts += dots
    parts.append(f'<text class="dim" x="{PAD_L}" y="{CHART_H - 6}">oldest</text>')
    parts.append(f'<text class="dim" x="{CHART_W - 10}" y="{CHART_H - 6}" text-anchor="end">latest</text>')
    parts.append("</svg>")
    return "".join(parts)


def _flag_chart(sessions: list[SessionSummary]) -> str:
    """Each flag's count in each session: a dot whose size is the count, one row per flag."""
    totals: dict[str, int] = {}
    for s in sessions:
        for flag, count in s.flags.items():
            totals[flag] = totals.get(flag, 0) + count
    if not totals:
        return "<p>No flag raised in any session.</p>"
    flags = sorted(totals, key=lambda f: (-totals[f], f))
    label_w, row_h, width = 150, 20, 720
    plot = width - label_w - 20
    n = len(sessions)
    height = PAD_T + row_h * (len(flags) + 1) + 8

    def x(i: int) -> float:
        return label_w + (plot / 2 if n == 1 else i * plot / (n - 1))

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Flags raised per session">']
    for row, flag in enumerate(flags):
        y = PAD_T + row * row_h + 10
        parts.append(f'<g class="flag-row" data-flag="{esc(flag)}">')
        parts.append(f'<text x="0" y="{y + 4}">{esc(flag)}</text>')
        parts.append(f'<line x1="{label_w}" x2="{label_w + plot}" y1="{y}" y2="{y}" stroke="#eceff2"/>')
        for i, s in enumerate(sessions):
            count = s.flags.get(flag, 0)
            if count:
                parts.append(
                    f'<circle cx="{x(i):.1f}" cy="{y}" r="{3 + 2 * min(count, 4)}" fill="#c62828" fill-opacity=".75">'
                    f"<title>{esc(s.id)}: {esc(flag)} ×{count}</title></circle>"
                )
        parts.append("</g>")
    y = PAD_T + len(flags) * row_h + 14
    parts.append(f'<text class="dim" x="{label_w}" y="{y}">oldest</text>')
    parts.append(f'<text class="dim" x="{label_w + plot}" y="{y}" text-anchor="end">latest</text></svg>')
    return "".join(parts)


def _sessions_table(history: History, pages: dict[str, str]) -> str:
    heads = ["started", "mode", "scenario", "level", "answer", "S", "T", "A", "R", "Refl.", "flags", "follow-ups",
             "verdict", ""]  # fmt: skip
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    rows = [f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>']
    for s in reversed(history.sessions):
        cells = [esc(when(s.started_at)), esc(s.mode), esc(s.scenario), esc(s.level)]
        cells.append(esc(clock(s.duration_s)) if s.duration_s is not None else "-")
        times = {t.id: t for t in s.sections}
        for section in SECTION_IDS:
            t = times.get(section)
            if t is None:
                cells.append("")
            elif t.duration_s is None:
                cells.append('<span class="missing">missing</span>')
            else:
                cells.append(f'<span class="{esc(t.status)}">{t.duration_s:.0f}/{t.target_s:.0f}</span>')
        cells.append(str(sum(s.flags.values())) if s.has_report else "")
        judged = s.probes_strong + s.probes_mixed + s.probes_weak
        cells.append(f"{s.probes_strong} strong, {s.probes_weak} weak of {judged}" if judged else "")
        cells.append(esc(s.verdict or s.status))
        page = pages.get(s.id)
        cells.append(f'<a href="{esc(page)}">review</a>' if page else "")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    rows.append("</tbody></table></div>")
    return "".join(rows)


def render(history: History, trends: Trends, pages: dict[str, str]) -> str:
    """The progress page. PAGES maps session ids to the relative links of their review pages."""
    reported = [s for s in history.sessions if s.has_report]
    charts = "".join(_section_chart(section, reported) for section in SECTION_IDS)
    trend_lines = []
    for t in trends.sections:
        target = f"{t.latest_target_s:.0f} s"
        if t.latest_s is None:
            trend_lines.append(f"{t.id.capitalize()}: missing in the latest answer (target {target}).")
        elif t.earlier_s is None:
            trend_lines.append(f"{t.id.capitalize()}: {t.latest_s:.0f} s in the latest answer, target {target}.")
        else:
            way = {"closer": "closer to", "further": "further from"}.get(t.movement or "", "as far from")
            trend_lines.append(
                f"{t.id.capitalize()}: {t.latest_s:.0f} s in the latest answer against {t.earlier_s:.0f} s before "
                f"on average: {way} its target of {t.latest_target_s:.0f} s."
            )
    skipped = ""
    if history.skipped:
        items = "".join(f"<li>{esc(s.id)}: {esc(s.reason)}</li>" for s in history.skipped)
        skipped = f'<section class="skipped"><h2>Skipped</h2><ul>{items}</ul></section>'
    body_charts = (
        f'<div class="charts">{charts}</div><p class="hint">Dots: seconds spent on the section in each session; '
        "dashed: its target; ×: the section was missing.</p>"
        if reported
        else "<p>No session with a report yet.</p>"
    )
    span = ""
    if history.sessions:
        span = f", from {esc(when(history.sessions[0].started_at))} to {esc(when(history.sessions[-1].started_at))}"
    return f"""{page_head("Progress · mock-interview", CSP, STYLE)}
<body>
<h1>Progress over {len(history.sessions)} sessions</h1>
<p class="meta">{trends.reports} with a report{span}</p>
<section id="timing">
<h2>STAR sections against their targets</h2>
{body_charts}
<ul>{"".join(f"<li>{esc(line)}</li>" for line in trend_lines)}</ul>
</section>
<section id="flags">
<h2>Flags per session</h2>
{_flag_chart(reported)}
</section>
<section id="sessions">
<h2>Sessions</h2>
{_sessions_table(history, pages)}
</section>
{skipped}
</body>
</html>
"""
