"""The report: one answer's analysis, and its v1 JSON form that other programs read.

The field names of `to_dict()` are the contract in DESIGN.md ("The report contract
(v1)"): they never change meaning; fields may be added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mock_interview.analysis.pacing import Delivery
from mock_interview.analysis.patterns import Flag, SectionTiming
from mock_interview.analysis.probes import ProbeChoice, ProbeJudgement
from mock_interview.analysis.transcript import Transcript
from mock_interview.analysis.verdict import Verdict

REPORT_SCHEMA = "mock-interview/report/v1"


@dataclass(frozen=True)
class Section:
    timing: SectionTiming
    text: str
    signals: tuple[str, ...] = ()  # the scenario's strong phrases said in this section


@dataclass(frozen=True)
class ProbeAnswer:
    """The candidate's spoken answer to one follow-up probe, and how it measured up."""

    transcript: Transcript
    judgement: ProbeJudgement
    audio: str | None = None  # file name in the session folder

    def to_dict(self) -> dict:
        j = self.judgement
        return {
            "audio": self.audio,
            "duration_s": round(self.transcript.duration_s, 2),
            "text": self.transcript.text,
            "judgement": j.label,
            "reasons": list(j.reasons),
            "strong_coverage": j.strong_coverage,
            "weak_coverage": j.weak_coverage,
            "flags": [f.id for f in j.flags],
        }


@dataclass(frozen=True)
class Report:
    scenario: str
    principle: str
    question: str
    level: str
    transcript: Transcript
    sections: tuple[Section, ...]
    flags: tuple[Flag, ...]
    delivery: Delivery
    probes: tuple[ProbeChoice, ...]
    verdict: Verdict
    engine: str | None = None
    source: str = ""
    probe_answers: dict[str, ProbeAnswer] = field(default_factory=dict)  # probe id -> the spoken answer

    @property
    def duration_s(self) -> float:
        return self.transcript.duration_s

    def to_dict(self) -> dict:
        t = self.transcript
        return {
            "schema": REPORT_SCHEMA,
            "scenario": self.scenario,
            "principle": self.principle,
            "question": self.question,
            "level": self.level,
            "source": self.source,
            "engine": self.engine,
            "timing": t.timing,
            "duration_s": round(t.duration_s, 2),
            "transcript": t.to_dict(),
            "sections": [
                {
                    "id": s.timing.id,
                    "start_s": s.timing.start_s,
                    "end_s": s.timing.end_s,
                    "duration_s": s.timing.duration_s,
                    "target_s": s.timing.target_s,
                    "status": s.timing.status,
                    "text": s.text,
                    "signals": list(s.signals),
                }
                for s in self.sections
            ],
            "flags": [
                {
                    "id": f.id,
                    "section": f.section,
                    "severity": f.severity,
                    "category": f.category,
                    "message": f.message,
                    "coaching": f.coaching,
                    "evidence": [{"quote": e.quote, "start_s": e.start_s, "end_s": e.end_s} for e in f.evidence],
                }
                for f in self.flags
            ],
            "delivery": {
                "words_per_minute": self.delivery.words_per_minute,
                "speaking_s": self.delivery.speaking_s,
                "fillers": self.delivery.fillers,
                "filler_times": [
                    {"word": f.word, "start_s": f.start, "end_s": f.end, "heard": f.heard}
                    for f in self.delivery.filler_events
                ],
                "long_pauses": [{"start_s": p.start_s, "duration_s": p.duration_s} for p in self.delivery.long_pauses],
            },
            "probes": [
                {
                    "id": c.probe.id,
                    "question": c.probe.question,
                    "assesses": c.probe.assesses,
                    "targets": list(c.probe.targets),
                    "triggered_by": list(c.triggered_by),
                    "answer": self.probe_answers[c.probe.id].to_dict() if c.probe.id in self.probe_answers else None,
                }
                for c in self.probes
            ],
            "verdict": {"label": self.verdict.label, "reasons": list(self.verdict.reasons)},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def clock(seconds: float | None) -> str:
    """Seconds as m:ss.s, the way a recording player shows them."""
    if seconds is None:
        return "-"
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def filler_summary(delivery: Delivery) -> str:
    """'um ×2, uh ×1 (2 heard in the sound)': the counts, and how many Whisper left out of the words."""
    counts = ", ".join(f"{k} ×{v}" for k, v in delivery.fillers.items())
    if not counts:
        return "none heard"
    heard = sum(1 for f in delivery.filler_events if f.heard == "acoustic")
    return counts + (f" ({heard} heard in the sound, not in the transcript)" if heard else "")
