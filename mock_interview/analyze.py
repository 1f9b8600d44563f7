"""One answer, start to end: read it (audio, transcript JSON or text), then analyse it into a Report.

Also the parts the voice sessions need: one section on its own (drill) and the answer to a probe."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from mock_interview.analysis.pacing import Delivery, measure_delivery, section_timings
from mock_interview.analysis.patterns import AnswerView, Catalogue, Flag, SectionTiming, evaluate
from mock_interview.analysis.probes import DEFAULT_PROBES, ProbeJudgement, choose_probes, judge_probe_answer
from mock_interview.analysis.star import SectionSpan, answer_units, segment, signals_said
from mock_interview.analysis.transcript import (
    Sentence,
    Transcript,
    join_words,
    read_transcript_file,
)
from mock_interview.analysis.verdict import judge
from mock_interview.errors import InputError
from mock_interview.report.model import ProbeAnswer, Report, Section
from mock_interview.scenario import SECTION_IDS, Probe, Scenario
from mock_interview.speech.audio import AUDIO_SUFFIXES, check_audible, load_audio
from mock_interview.speech.transcribe import Engine, ProgressCallback, transcribe_audio

TRANSCRIPT_SUFFIXES = (".json", ".txt", ".text", ".md")


def is_audio(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_SUFFIXES


def read_answer(path: Path, engine: Engine | None = None, progress: ProgressCallback | None = None) -> Transcript:
    """A timed transcript of the answer in PATH. ENGINE is needed only for audio."""
    suffix = path.suffix.lower()
    if suffix in TRANSCRIPT_SUFFIXES:
        return read_transcript_file(path)
    if not is_audio(path):
        kinds = ", ".join(s.lstrip(".") for s in AUDIO_SUFFIXES + TRANSCRIPT_SUFFIXES)
        raise InputError(f"{path}: unsupported file type '{suffix or 'none'}' (expected one of: {kinds})")
    audio = load_audio(path)
    check_audible(audio, path)
    if engine is None:
        raise InputError(f"{path}: audio needs a transcription engine")
    return transcribe_audio(audio, engine, str(path), progress)


def _view(
    transcript: Transcript,
    sentences: list[Sentence],
    sections: dict[str, tuple[Sentence, ...]],
    timings: list[SectionTiming],
    budget_s: float,
    level: str,
    principle: str,
    delivery: Delivery,
) -> AnswerView:
    return AnswerView(
        words=transcript.words,
        sentences=tuple(sentences),
        sections=sections,
        timings=tuple(timings),
        level=level,
        principle=principle,
        budget_s=budget_s,
        fillers=delivery.filler_events,
        words_per_minute=delivery.words_per_minute,
        speaking_s=delivery.speaking_s,
    )


def _sentences(transcript: Transcript) -> list[Sentence]:
    if not transcript.words:
        raise InputError(f"{transcript.source or 'answer'}: the transcript is empty")
    return answer_units(transcript.words)


def analyze_transcript(
    transcript: Transcript,
    scenario: Scenario,
    level: str,
    catalogue: Catalogue,
    probes: int = DEFAULT_PROBES,
    engine: str | None = None,
    spans: list[SectionSpan] | None = None,
) -> Report:
    """The whole answer's report. SPANS, when the sections are known (drill), replace the segmentation."""
    sentences = _sentences(transcript)
    spans = spans if spans is not None else segment(sentences, scenario, level)
    timings = section_timings(spans, sentences, scenario, level, catalogue.thresholds)
    by_section = {
        span.id: tuple(sentences[span.first_sentence : span.last_sentence + 1])
        for span in spans
        if span.first_sentence is not None and span.last_sentence is not None
    }
    delivery = measure_delivery(transcript, sentences, catalogue.thresholds)
    view = _view(
        transcript, sentences, by_section, timings, scenario.levels[level].budget_s, level, scenario.principle, delivery
    )
    flags = evaluate(catalogue, view)
    said = {t.id: signals_said(scenario, t.id, by_section.get(t.id, ())) for t in timings}
    sections = tuple(
        Section(t, join_words([w for s in by_section.get(t.id, ()) for w in s.words]), tuple(said[t.id]))
        for t in timings
    )
    return Report(
        scenario=scenario.id,
        principle=scenario.principle,
        question=scenario.question,
        level=level,
        transcript=transcript,
        sections=sections,
        flags=tuple(flags),
        delivery=delivery,
        probes=tuple(choose_probes(scenario, flags, probes)),
        verdict=judge(flags, timings, scenario.principle, said, scenario.signal_count),
        engine=engine,
        source=transcript.source,
    )


@dataclass(frozen=True)
class SectionFeedback:
    """One section answered on its own (drill): its time against the target, its flags and its signals."""

    timing: SectionTiming
    flags: tuple[Flag, ...]
    signals: tuple[str, ...]
    text: str


def analyze_section(
    transcript: Transcript, section_id: str, scenario: Scenario, level: str, catalogue: Catalogue
) -> SectionFeedback:
    sentences = _sentences(transcript)
    span = SectionSpan(section_id, 0, len(sentences) - 1)
    timings = section_timings([span], sentences, scenario, level, catalogue.thresholds)
    delivery = measure_delivery(transcript, sentences, catalogue.thresholds)
    only = {section_id: tuple(sentences)}
    view = _view(transcript, sentences, only, timings, math.inf, level, scenario.principle, delivery)
    # Only the rules about this section: whole-answer rules (budget, pace, fillers) wait for the full answer.
    flags = tuple(f for f in evaluate(catalogue, view) if f.section == section_id)
    said = tuple(signals_said(scenario, section_id, tuple(sentences)))
    return SectionFeedback(timings[0], flags, said, join_words(transcript.words))


def judge_probe(
    probe: Probe, transcript: Transcript, catalogue: Catalogue, principle: str, level: str
) -> ProbeJudgement:
    """An answer to a follow-up probe, against the probe's weak and strong answers and the flags it targets."""
    sentences = _sentences(transcript)
    delivery = measure_delivery(transcript, sentences, catalogue.thresholds)
    # A probe answer has no STAR shape: every section-scoped rule reads the whole of it.
    every_section = {section: tuple(sentences) for section in SECTION_IDS}
    view = _view(transcript, sentences, every_section, [], math.inf, level, principle, delivery)
    targeted = Catalogue(catalogue.thresholds, tuple(r for r in catalogue.rules if r.id in probe.targets))
    return judge_probe_answer(probe, transcript.text, evaluate(targeted, view))


def with_probe_answers(report: Report, answers: dict[str, ProbeAnswer], scenario: Scenario) -> Report:
    """The report once the follow-up probes were answered: the answers, and a verdict that weighs them."""
    said = {s.timing.id: list(s.signals) for s in report.sections}
    verdict = judge(
        list(report.flags),
        [s.timing for s in report.sections],
        scenario.principle,
        said,
        scenario.signal_count,
        [(c.probe.question, answers[c.probe.id].judgement.label) for c in report.probes if c.probe.id in answers],
    )
    return replace(report, probe_answers=answers, verdict=verdict)
