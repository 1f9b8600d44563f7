"""The report: one answer's analysis, and its v1 JSON form that other programs read.

The field names of `to_dict()` are the contract in DESIGN.md ("The report contract
(v1)"): they never change meaning; fields may be added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mock_interview.analysis.pacing import Delivery, Pause
from mock_interview.analysis.patterns import Evidence, Flag, SectionTiming
from mock_interview.analysis.probes import ProbeChoice, ProbeJudgement
from mock_interview.analysis.transcript import Filler, Transcript, Word, transcript_from_json
from mock_interview.analysis.verdict import Verdict
from mock_interview.datafiles import load_json
from mock_interview.errors import InputError
from mock_interview.scenario import Probe

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
            "verdict": {
                "label": self.verdict.label,
                "reasons": list(self.verdict.reasons),
                "score": self.verdict.score,
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def read_report(path: Path) -> Report:
    """A report kept as v1 JSON (a session's report.json), read back for review."""
    data = load_json(path)
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        raise InputError(f"{path}: not a {REPORT_SCHEMA} report")
    try:
        return report_from_dict(data, path)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise InputError(f"{path}: damaged report: {type(e).__name__}: {e}") from None


def _flag(f: dict) -> Flag:
    evidence = tuple(Evidence(e["quote"], e["start_s"], e["end_s"]) for e in f["evidence"])
    return Flag(f["id"], f["section"], f["severity"], f["category"], f["message"], f["coaching"], evidence)


def report_from_dict(data: dict, path: Path) -> Report:
    """The inverse of `Report.to_dict`, for everything the renderers show."""
    transcript = transcript_from_json(data["transcript"], path)
    transcript = Transcript(
        transcript.words, data["duration_s"], data.get("timing", "measured"), data.get("source", ""),
        transcript.fillers,
    )  # fmt: skip
    sections = tuple(
        Section(
            SectionTiming(s["id"], s["start_s"], s["end_s"], s["duration_s"], s["target_s"], s["status"]),
            s["text"],
            tuple(s.get("signals", ())),
        )
        for s in data["sections"]
    )
    d = data["delivery"]
    delivery = Delivery(
        d["words_per_minute"],
        d.get("speaking_s", data["duration_s"]),
        dict(d["fillers"]),
        tuple(Filler(f["word"], f["start_s"], f["end_s"], f["heard"]) for f in d.get("filler_times", ())),
        tuple(Pause(p["start_s"], p["duration_s"]) for p in d["long_pauses"]),
    )
    choices: list[ProbeChoice] = []
    answers: dict[str, ProbeAnswer] = {}
    for p in data["probes"]:
        # A report keeps only what it shows of a probe, not its model answers: built without validation.
        probe = Probe.model_construct(id=p["id"], question=p["question"], assesses=p["assesses"], targets=p["targets"])
        choices.append(ProbeChoice(probe, tuple(p["triggered_by"])))
        a = p.get("answer")
        if a:
            # The report keeps the answer's text, not its word times (those are in the turn's transcript file).
            said = Transcript(tuple(Word(w, 0.0, 0.0) for w in a["text"].split()), a["duration_s"])
            flags = tuple(Flag(f, None, "", "", "", "", ()) for f in a["flags"])  # kept by id only
            judgement = ProbeJudgement(a["judgement"], tuple(a["reasons"]), flags, a["strong_coverage"],
                                       a["weak_coverage"], ())  # fmt: skip
            answers[p["id"]] = ProbeAnswer(said, judgement, a.get("audio"))
    v = data["verdict"]
    return Report(
        scenario=data["scenario"],
        principle=data.get("principle", ""),
        question=data.get("question", ""),
        level=data["level"],
        transcript=transcript,
        sections=sections,
        flags=tuple(_flag(f) for f in data["flags"]),
        delivery=delivery,
        probes=tuple(choices),
        verdict=Verdict(v["label"], tuple(v["reasons"]), v.get("score", 0)),
        engine=data.get("engine"),
        source=data.get("source", ""),
        probe_answers=answers,
    )


def when(stamp: str) -> str:
    """A session's start time ('2026-11-27T08:30:12+0100') as a person reads it: '2026-11-27 08:30'."""
    return stamp.replace("T", " ")[:16]


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
