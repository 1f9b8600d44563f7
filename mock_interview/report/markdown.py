"""The report as Markdown, for notes and for session folders."""

from __future__ import annotations

from mock_interview.report.model import Report, clock, filler_summary


def render(report: Report) -> str:
    lines = [
        f"# {report.principle}: {report.question}",
        "",
        f"Scenario `{report.scenario}`, level {report.level}, {clock(report.duration_s)} of audio"
        + (f", transcribed by {report.engine}" if report.engine else "")
        + (" (times estimated from text)" if report.transcript.timing == "estimated" else "")
        + ".",
        "",
        f"**Verdict: {report.verdict.label}.** " + " ".join(report.verdict.reasons),
        "",
        "## STAR sections",
        "",
        "| section | from | to | actual | target | status |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for s in report.sections:
        t = s.timing
        actual = "-" if t.duration_s is None else f"{t.duration_s:.1f} s"
        lines.append(f"| {t.id} | {clock(t.start_s)} | {clock(t.end_s)} | {actual} | {t.target_s:.0f} s | {t.status} |")
    lines += ["", "## Flags", ""]
    if not report.flags:
        lines.append("No weak patterns found.")
    for f in report.flags:
        where = f" ({f.section})" if f.section else ""
        lines.append(f"- **{f.id}**{where}, {f.severity}: {f.message}")
        for e in f.evidence:
            lines.append(f"  - “{e.quote}” at {clock(e.start_s)}")
        lines.append(f"  - *Coaching:* {f.coaching}")
    d = report.delivery
    fillers = filler_summary(d)
    pauses = ", ".join(f"{p.duration_s:.1f} s at {clock(p.start_s)}" for p in d.long_pauses) or "none"
    lines += [
        "",
        "## Delivery",
        "",
        f"- Pace: {d.words_per_minute:.0f} words a minute",
        f"- Fillers: {fillers}",
        f"- Long pauses: {pauses}",
        "",
        "## Follow-up probes",
        "",
    ]
    for c in report.probes:
        why = f" (follows up on {', '.join(c.triggered_by)})" if c.triggered_by else ""
        lines.append(f"1. {c.probe.question}{why}")
        answer = report.probe_answers.get(c.probe.id)
        if answer is not None:
            lines.append(f"   - **{answer.judgement.label}**: “{answer.transcript.text}”")
            lines += [f"   - {reason}" for reason in answer.judgement.reasons]
    lines += ["", "## Transcript", ""]
    for s in report.sections:
        if s.text:
            lines += [f"**{s.timing.id.capitalize()}.** {s.text}", ""]
    return "\n".join(lines).rstrip() + "\n"
