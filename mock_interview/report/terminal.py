"""The report for a person at a terminal: section timing with bars, flags with quotes, delivery, verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mock_interview.report.model import Report, clock, filler_summary, when
from mock_interview.scenario import SECTION_IDS

if TYPE_CHECKING:
    from mock_interview.history import SessionSummary, Trends

STATUS_STYLE = {"ok": "green", "over": "red", "under": "yellow", "missing": "bold red"}
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}
BAR_WIDTH = 16


def _bar(duration: float | None, target: float, scale: float) -> Text:
    """Actual time as a bar, with the target marked by '│' on the same scale; time past it in red."""
    filled = 0 if duration is None else min(BAR_WIDTH, round(duration / scale * BAR_WIDTH))
    mark = min(BAR_WIDTH - 1, round(target / scale * BAR_WIDTH))
    bar = Text()
    for i in range(BAR_WIDTH):
        if i < filled:
            bar.append("█", style="red" if i >= mark else "green")
        else:
            bar.append("│" if i == mark else "·", style="dim")
    return bar


def section_table(report: Report) -> Table:
    table = Table(title="STAR sections", title_justify="left", expand=False, box=box.SIMPLE_HEAD)
    for name, justify in (
        ("section", "left"),
        ("from", "right"),
        ("to", "right"),
        ("actual", "right"),
        ("target", "right"),
        ("", "left"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    scale = max(
        [s.timing.target_s * 1.6 for s in report.sections] + [s.timing.duration_s or 0 for s in report.sections]
    )
    for s in report.sections:
        t = s.timing
        actual = "-" if t.duration_s is None else f"{t.duration_s:.1f} s"
        table.add_row(
            t.id.capitalize(),
            clock(t.start_s),
            clock(t.end_s),
            actual,
            f"{t.target_s:.0f} s",
            _bar(t.duration_s, t.target_s, scale),
            Text(t.status, style=STATUS_STYLE[t.status]),
        )
    return table


def flags_panel(report: Report) -> Panel:
    if not report.flags:
        return Panel("No weak patterns found.", title="Flags", border_style="green")
    parts = []
    for f in report.flags:
        head = Text()
        head.append(f"{f.severity.upper():6} ", style=SEVERITY_STYLE[f.severity])
        head.append(f"{f.id}", style="bold")
        if f.section:
            head.append(f"  ({f.section})", style="dim")
        head.append(f"\n  {f.message}")
        for e in f.evidence[:3]:
            head.append(f"\n    “{e.quote}”", style="italic")
            head.append(f"  at {clock(e.start_s)}", style="dim")
        if len(f.evidence) > 3:
            head.append(f"\n    … and {len(f.evidence) - 3} more", style="dim")
        head.append(f"\n  Coaching: {f.coaching}\n", style="green")
        parts.append(head)
    return Panel(Group(*parts), title=f"Flags ({len(report.flags)})", border_style="yellow")


def delivery_text(report: Report) -> Text:
    d = report.delivery
    text = Text()
    text.append("Delivery: ", style="bold")
    text.append(f"{d.words_per_minute:.0f} words a minute over {d.speaking_s:.1f} s")
    fillers = filler_summary(d)
    text.append(f"; fillers: {fillers}")
    pauses = ", ".join(f"{p.duration_s:.1f} s at {clock(p.start_s)}" for p in d.long_pauses) or "none"
    text.append(f"; long pauses: {pauses}")
    if report.transcript.timing == "estimated":
        text.append("\nTimes are estimated from the text at a steady pace, not measured from audio.", style="yellow")
    return text


def render(report: Report, console: Console) -> None:
    console.print(Text(f"{report.principle}: {report.question}", style="bold"))
    console.print(
        Text(
            f"scenario {report.scenario} · level {report.level} · {clock(report.duration_s)} of audio"
            + (f" · {report.engine}" if report.engine else ""),
            style="dim",
        )
    )
    console.print(section_table(report))
    console.print(flags_panel(report))
    console.print(delivery_text(report))
    if report.probes:
        heading = "Follow-up probes" if report.probe_answers else "Follow-up probes a bar raiser would ask"
        console.print(Text(f"\n{heading}:", style="bold"))
        for i, c in enumerate(report.probes, 1):
            why = f" (follows up on {', '.join(c.triggered_by)})" if c.triggered_by else ""
            console.print(Text(f"  {i}. {c.probe.question}"), Text(why, style="dim"))
            answer = report.probe_answers.get(c.probe.id)
            if answer is not None:
                label = answer.judgement.label
                colour = {"strong": "green", "mixed": "yellow", "weak": "red"}[label]
                quote = Text(f"“{answer.transcript.text}”")
                console.print(Text(f"     {label.upper()}", style=f"bold {colour}"), quote)
                for reason in answer.judgement.reasons:
                    console.print(Text(f"       {reason}", style="dim"))
    style = "green" if report.verdict.label.endswith("Hire") and "No" not in report.verdict.label else "red"
    console.print(
        Panel(
            Text("\n".join(report.verdict.reasons)),
            title=f"Bar raiser thinks: {report.verdict.label}",
            border_style=style,
        )
    )


def history_table(sessions: tuple[SessionSummary, ...]) -> Table:
    """One row per session, oldest first: each section's seconds against its target, flags, verdict."""
    table = Table(title="Sessions", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    # On a narrow terminal the text columns fold onto more lines; numbers and verdicts never do ("Strong No
    # Hire" cut in two reads as its opposite).
    table.add_column("started", min_width=10)
    table.add_column("scenario", overflow="fold")
    for name in ("S", "T", "A", "R", "Refl.", "flags"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True, min_width=14)
    for s in sessions:
        times = {t.id: t for t in s.sections}
        cells: list[Text | str] = [f"{when(s.started_at)}\n{s.mode} {s.level}", s.scenario]
        for section in SECTION_IDS:
            t = times.get(section)
            if t is None:
                cells.append("")
            elif t.duration_s is None:
                cells.append(Text("-", style=STATUS_STYLE["missing"]))
            else:
                cells.append(Text(f"{t.duration_s:.0f}/{t.target_s:.0f}", style=STATUS_STYLE.get(t.status, "")))
        cells.append(str(sum(s.flags.values())) if s.has_report else "")
        cells.append(Text(s.verdict or s.status, style="" if s.verdict else "dim"))
        table.add_row(*cells)
    table.caption = "seconds spoken / target: green on target, yellow under, red over, - missing"
    return table


def trends_text(trends: Trends) -> Text:
    """How the latest answer compares with the ones before it."""
    text = Text()
    if trends.reports < 2:
        text.append("Trends need two sessions with a report.", style="dim")
        return text
    text.append(f"Latest against the {trends.reports - 1} before it\n", style="bold")
    for t in trends.sections:
        name = t.id.capitalize()
        if t.latest_s is None:
            text.append(f"  {name}: missing in the latest answer\n", style="red")
        elif t.earlier_s is None:
            text.append(f"  {name}: {t.latest_s:.0f} s (target {t.latest_target_s:.0f} s), not reached before\n")
        else:
            way, style = {"closer": ("closer to", "green"), "further": ("further from", "yellow")}.get(
                t.movement or "", ("as far from", "")
            )
            text.append(f"  {name}: {t.earlier_s:.0f} s → {t.latest_s:.0f} s, ")
            text.append(f"{way} the {t.latest_target_s:.0f} s target\n", style=style)
    for f in trends.flags:
        style = "green" if not f.latest else ("red" if f.earlier == f.earlier_of else "yellow")
        latest = f"×{f.latest} in the latest" if f.latest else "not in the latest"
        text.append(f"  {f.id}: in {f.earlier} of {f.earlier_of} before, {latest}\n", style=style)
    text.rstrip()
    return text
