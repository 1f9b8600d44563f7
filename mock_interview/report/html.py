"""The report as one self-contained HTML page, for reviewing a session afterwards.

Everything is inside the file: styles, a small script, and the recordings as data URIs, so it
works offline and can be mailed or archived. A Content-Security-Policy allows only this page's
own script and style (by hash) and media from data URIs: nothing can be fetched, and a script
slipped into a transcript would not run even if escaping failed. All text is escaped.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape

from mock_interview.analysis.patterns import Flag
from mock_interview.analysis.transcript import Word, split_sentences
from mock_interview.report.model import Report, clock, filler_summary, when
from mock_interview.store import Manifest

SECTION_COLOURS = {
    "situation": "#4e79a7",
    "task": "#f28e2b",
    "action": "#59a14f",
    "result": "#b6992d",
    "reflection": "#b07aa1",
}
STATUS_WORDS = {"ok": "on target", "over": "over", "under": "under", "missing": "missing"}
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class EmbeddedAudio:
    mime: str  # e.g. audio/ogg; codecs=opus
    data: bytes

    def uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class Unit:
    """A clickable run of the transcript: a sentence, cut where a section boundary falls inside it."""

    section: str | None
    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start


def _tint(colour: str, white: float = 0.85) -> str:
    """COLOUR mixed with WHITE parts of white: a background light enough for text."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * white):02x}" for c in rgb)


# Shared with the progress page.
BASE_STYLE = """
:root { color-scheme: light; --ink: #1d232a; --muted: #5b6570; --line: #d9dee3; }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 62rem; padding: 1.5rem; background: #fbfbfc; }
h1 { font-size: 1.45rem; margin: 0 0 .3rem; } h2 { font-size: 1.15rem; margin: 0 0 .6rem; }
h3 { font-size: 1rem; margin: 0 0 .3rem; }
.meta, .hint, .why { color: var(--muted); font-size: .9rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin: 1rem 0; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); } svg .dim { fill: var(--muted); }
"""

STYLE = (
    BASE_STYLE
    + """
.verdict.hire { border-left: 6px solid #2e7d32; } .verdict.no-hire { border-left: 6px solid #c62828; }
audio { width: 100%; }
svg [data-start] { cursor: pointer; }
.block { border-left: 5px solid var(--c); padding: .2rem 0 .2rem .8rem; margin: .6rem 0; }
.block h3 { color: var(--c); }
.s-none { --c: #8a939c; --bg: #f0f2f4; }
.sentence { cursor: pointer; border-radius: 3px; padding: 1px 0; background: var(--bg); }
.sentence:hover, .sentence:focus { outline: 2px solid var(--c); }
.sentence.now { background: #fff3a8; }
mark { background: #ffd9d4; color: inherit; border-bottom: 2px solid #c62828; padding: 0 1px; }
mark.medium { background: #ffecc7; border-color: #e08a00; } mark.low { background: #e3f1f7; border-color: #2a7fa6; }
.legend span { display: inline-block; margin-right: .9rem; font-size: .9rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem;
            background: var(--c); vertical-align: -1px; }
.flag { border-top: 1px solid var(--line); padding: .6rem 0; }
.flag .sev { font-weight: 600; text-transform: uppercase; font-size: .8rem; margin-right: .4rem; }
.sev.high { color: #c62828; } .sev.medium { color: #b86e00; } .sev.low { color: #2a7fa6; }
.coaching { color: #2e6b30; }
button.seek { font: inherit; font-size: .9rem; background: none; border: 1px solid var(--line); border-radius: 4px;
              padding: 0 .4rem; margin: .1rem 0; cursor: pointer; color: var(--ink); text-align: left; }
.label { font-weight: 700; text-transform: uppercase; font-size: .85rem; }
.label.strong { color: #2e7d32; } .label.mixed { color: #b86e00; } .label.weak { color: #c62828; }
blockquote { margin: .3rem 0 .3rem .2rem; padding-left: .8rem; border-left: 3px solid var(--line); }
.missing-audio { color: #b86e00; }
"""
    + "".join(
        f".s-{section} {{ --c: {colour}; --bg: {_tint(colour)}; }}\n" for section, colour in SECTION_COLOURS.items()
    )
)

SCRIPT = """
(function () {
  "use strict";
  var audio = document.getElementById("answer");
  var sentences = Array.prototype.slice.call(document.querySelectorAll(".sentence"));
  function seek(el) {
    if (!audio) { return; }
    audio.currentTime = parseFloat(el.getAttribute("data-start"));
    var playing = audio.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
  }
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-start]");
    if (el) { seek(el); }
  });
  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if ((event.key === "Enter" || event.key === " ") && el.hasAttribute && el.hasAttribute("data-start")) {
      event.preventDefault();
      seek(el);
    }
  });
  if (audio) {
    audio.addEventListener("timeupdate", function () {
      var now = null;
      sentences.forEach(function (s) {
        if (parseFloat(s.getAttribute("data-start")) <= audio.currentTime + 0.01) { now = s; }
        s.classList.remove("now");
      });
      if (now) { now.classList.add("now"); }
    });
  }
})();
"""


def csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


CSP = (
    f"default-src 'none'; script-src {csp_hash(SCRIPT)}; style-src {csp_hash(STYLE)}; media-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def page_head(title: str, csp: str, style: str) -> str:
    """The start of a self-contained page, up to its body: its policy, its title and its inline style."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{esc(title)}</title>
<style>{style}</style>
</head>"""


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def _at(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.2f}"


def _section_of(word: Word, report: Report) -> str | None:
    for s in report.sections:
        t = s.timing
        if t.start_s is not None and t.end_s is not None and t.start_s - 0.005 <= word.start <= t.end_s + 0.005:
            return t.id
    return None


def transcript_units(report: Report) -> list[Unit]:
    """The transcript as clickable units in time order, each inside one section."""
    units: list[Unit] = []
    for sentence in split_sentences(report.transcript.words):
        current: list[Word] = []
        section: str | None = None
        for word in sentence.words:
            here = _section_of(word, report) or section  # a word between sections stays with the one before
            if current and here != section:
                units.append(Unit(section, tuple(current)))
                current = []
            section = here
            current.append(word)
        if current:
            units.append(Unit(section, tuple(current)))
    return units


def _flags_on(word: Word, flags: tuple[Flag, ...]) -> tuple[int, ...]:
    return tuple(
        i
        for i, f in enumerate(flags)
        if any(e.start_s - 0.005 <= word.start and word.end <= e.end_s + 0.005 for e in f.evidence)
    )


def _unit_html(unit: Unit, flags: tuple[Flag, ...]) -> str:
    """One unit's words, with the words a flag quotes as evidence marked and its coaching on hover."""
    runs: list[tuple[tuple[int, ...], list[str]]] = []
    for word in unit.words:
        on = _flags_on(word, flags)
        if runs and runs[-1][0] == on:
            runs[-1][1].append(word.word.strip())
        else:
            runs.append((on, [word.word.strip()]))
    parts = []
    for on, words in runs:
        text = esc(" ".join(words))
        if not on:
            parts.append(text)
            continue
        raised = [flags[i] for i in on]
        worst = min((f.severity for f in raised), key=lambda s: SEVERITY_RANK.get(s, 3))
        tip = "\n".join(f"{f.id}: {f.message} Coaching: {f.coaching}" for f in raised)
        ids = " ".join(f.id for f in raised)
        parts.append(f'<mark class="{esc(worst)}" data-flags="{esc(ids)}" title="{esc(tip)}">{text}</mark>')
    return (
        f'<span class="sentence" role="button" tabindex="0" data-start="{_at(unit.start)}" '
        f'title="Play from {clock(unit.start)}">{" ".join(parts)}</span>'
    )


def _transcript_html(report: Report) -> str:
    blocks: list[tuple[str | None, list[Unit]]] = []
    for unit in transcript_units(report):
        if blocks and blocks[-1][0] == unit.section:
            blocks[-1][1].append(unit)
        else:
            blocks.append((unit.section, [unit]))
    timings = {s.timing.id: s.timing for s in report.sections}
    out = []
    for section, units in blocks:
        if section is None:
            head = "Not in a section"
        else:
            t = timings[section]
            head = f'{section.capitalize()} <span class="why">{clock(t.start_s)} to {clock(t.end_s)}</span>'
        body = " ".join(_unit_html(u, report.flags) for u in units)
        out.append(f'<div class="block s-{esc(section or "none")}"><h3>{head}</h3><p>{body}</p></div>')
    return "\n".join(out)


def _timeline_svg(report: Report) -> str:
    """Where each section falls in the recording, then each section's time against its target."""
    width, label_w, row_h = 720, 96, 26
    plot_w = width - label_w - 150
    total = max(report.duration_s, 0.1)
    rows = len(report.sections)
    height = 44 + rows * row_h + 8
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Timeline of the five STAR sections">',
        f'<text x="0" y="16">Recording</text><rect x="{label_w}" y="4" width="{plot_w}" height="16" fill="#eef0f2"/>',
    ]
    for s in report.sections:
        t = s.timing
        if t.start_s is None or t.end_s is None:
            continue
        x = label_w + t.start_s / total * plot_w
        w = max(1.5, (t.end_s - t.start_s) / total * plot_w)
        colour = SECTION_COLOURS.get(t.id, "#888")
        parts.append(
            f'<rect class="span" x="{x:.1f}" y="4" width="{w:.1f}" height="16" fill="{colour}"'
            f' data-start="{_at(t.start_s)}"><title>{esc(t.id.capitalize())}: {clock(t.start_s)} to {clock(t.end_s)}'
            "</title></rect>"
        )
    parts.append(f'<text class="dim" x="{label_w + plot_w + 8}" y="16">{clock(report.duration_s)}</text>')
    timings = [s.timing for s in report.sections]
    scale = max([t.target_s * 1.5 for t in timings] + [t.duration_s or 0 for t in timings])
    for i, s in enumerate(report.sections):
        t = s.timing
        y = 40 + i * row_h
        colour = SECTION_COLOURS.get(t.id, "#888")
        parts.append(f'<g class="row" data-section="{esc(t.id)}">')
        parts.append(f'<text x="0" y="{y + 13}">{esc(t.id.capitalize())}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="18" fill="#f4f5f7"/>')
        if t.duration_s is not None:
            w = t.duration_s / scale * plot_w
            start = f' data-start="{_at(t.start_s)}"' if t.start_s is not None else ""
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="18" fill="{colour}"{start}/>')
        tx = label_w + t.target_s / scale * plot_w
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - 3}" y2="{y + 21}" stroke="#1d232a" stroke-width="2">'
            f"<title>target {t.target_s:.0f} s</title></line>"
        )
        actual = "missing" if t.duration_s is None else f"{t.duration_s:.1f} / {t.target_s:.0f} s"
        status = "" if t.duration_s is None else f" · {STATUS_WORDS.get(t.status, t.status)}"
        parts.append(f'<text x="{label_w + plot_w + 8}" y="{y + 13}">{esc(actual + status)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _flags_html(report: Report) -> str:
    if not report.flags:
        return "<p>No weak patterns found.</p>"
    out = []
    for f in report.flags:
        where = f" ({esc(f.section)})" if f.section else ""
        quotes = "".join(
            f'<li><button class="seek" type="button" data-start="{_at(e.start_s)}">“{esc(e.quote)}” at '
            f"{clock(e.start_s)}</button></li>"
            for e in f.evidence
        )
        out.append(
            f'<div class="flag"><h3><span class="sev {esc(f.severity)}">'
            f"{esc(f.severity)}</span>{esc(f.id)}{where}</h3><p>{esc(f.message)}</p><ul>{quotes}</ul>"
            f'<p class="coaching">Coaching: {esc(f.coaching)}</p></div>'
        )
    return "\n".join(out)


def _delivery_html(report: Report) -> str:
    d = report.delivery
    pauses = (
        " ".join(
            f'<button class="seek" type="button" data-start="{_at(p.start_s)}">{p.duration_s:.1f} s at '
            f"{clock(p.start_s)}</button>"
            for p in d.long_pauses
        )
        or "none"
    )
    estimated = (
        '<p class="missing-audio">Times are estimated from the text at a steady pace, not measured from audio.</p>'
        if report.transcript.timing == "estimated"
        else ""
    )
    return (
        f"<p>Pace: {d.words_per_minute:.0f} words a minute over {d.speaking_s:.1f} s of speaking.<br>"
        f"Fillers: {esc(filler_summary(d))}.<br>Long pauses: {pauses}</p>{estimated}"
    )


def _probes_html(report: Report, probe_audio: dict[str, EmbeddedAudio]) -> str:
    if not report.probes:
        return "<p>No follow-up probes.</p>"
    out = ["<ol>"]
    for c in report.probes:
        why = f' <span class="why">(follows up on {esc(", ".join(c.triggered_by))})</span>' if c.triggered_by else ""
        item = f"<li><p><strong>{esc(c.probe.question)}</strong>{why}</p>"
        answer = report.probe_answers.get(c.probe.id)
        if answer is None:
            item += '<p class="why">Not answered in this session.</p>'
        else:
            label = answer.judgement.label
            item += f'<p><span class="label {esc(label)}">{esc(label)}</span></p>'
            item += f"<blockquote>{esc(answer.transcript.text)}</blockquote>"
            item += "<ul>" + "".join(f"<li>{esc(r)}</li>" for r in answer.judgement.reasons) + "</ul>"
            audio = probe_audio.get(c.probe.id)
            if audio is not None:
                item += f'<audio class="probe-answer" controls preload="metadata" src="{esc(audio.uri())}"></audio>'
        out.append(item + "</li>")
    out.append("</ol>")
    return "".join(out)


def render(
    report: Report,
    manifest: Manifest,
    answer_audio: EmbeddedAudio | None,
    probe_audio: dict[str, EmbeddedAudio],
) -> str:
    """The review page of one session: verdict, timeline, recording, transcript, flags, delivery, probes."""
    v = report.verdict
    hire = "hire" if v.label.endswith("Hire") and "No" not in v.label else "no-hire"
    title = f"{report.principle}: {report.question}" if report.principle else report.question
    meta = " · ".join(
        x
        for x in (
            f"session {manifest.id}",
            f"{manifest.mode}, {manifest.status}",
            f"started {when(manifest.started_at)}",
            f"scenario {report.scenario}",
            f"level {report.level}",
            f"{clock(report.duration_s)} of answer",
            report.engine or "",
        )
        if x
    )
    legend = "".join(
        f'<span class="s-{esc(s.timing.id)}"><i></i>{esc(s.timing.id.capitalize())}</span>' for s in report.sections
    )
    if answer_audio is not None:
        player = f'<audio id="answer" controls preload="auto" src="{esc(answer_audio.uri())}"></audio>'
    else:
        player = '<p class="missing-audio">The recording of this answer is not in the session folder.</p>'
    return f"""{page_head(f"{title} · mock-interview review", CSP, STYLE)}
<body>
<header>
<h1>{esc(title)}</h1>
<p class="meta">{esc(meta)}</p>
</header>
<section class="verdict {hire}" id="verdict">
<h2>Bar raiser thinks: {esc(v.label)}</h2>
<ul>{"".join(f"<li>{esc(r)}</li>" for r in v.reasons)}</ul>
</section>
<section id="timeline">
<h2>STAR sections against their targets</h2>
{_timeline_svg(report)}
<p class="hint">The black line is each section's target. Click a section to hear it.</p>
</section>
<section id="recording">
<h2>Your answer</h2>
{player}
</section>
<section id="transcript">
<h2>Transcript</h2>
<p class="legend">{legend}</p>
<p class="hint">Click a sentence to play the recording from there. Marked words are a flag's evidence:
hover over them for the coaching.</p>
{_transcript_html(report)}
</section>
<section id="flags">
<h2>Flags ({len(report.flags)})</h2>
{_flags_html(report)}
</section>
<section id="delivery">
<h2>Delivery</h2>
{_delivery_html(report)}
</section>
<section id="probes">
<h2>Follow-up probes</h2>
{_probes_html(report, probe_audio)}
</section>
<script>{SCRIPT}</script>
</body>
</html>
"""
