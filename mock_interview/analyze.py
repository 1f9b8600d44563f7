"""One answer, start to end: read it (audio, transcript JSON or text), then analyse it into a Report."""

from __future__ import annotations

from pathlib import Path

from mock_interview.analysis.pacing import measure_delivery, section_timings
from mock_interview.analysis.patterns import AnswerView, Catalogue, evaluate
from mock_interview.analysis.probes import DEFAULT_PROBES, choose_probes
from mock_interview.analysis.star import segment, signals_said
from mock_interview.analysis.transcript import Transcript, join_words, read_transcript_file, split_sentences
from mock_interview.analysis.verdict import judge
from mock_interview.errors import InputError
from mock_interview.report.model import Report, Section
from mock_interview.scenario import Scenario
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


def analyze_transcript(
    transcript: Transcript,
    scenario: Scenario,
    level: str,
    catalogue: Catalogue,
    probes: int = DEFAULT_PROBES,
    engine: str | None = None,
) -> Report:
    words = transcript.words
    if not words:
        raise InputError(f"{transcript.source or 'answer'}: the transcript is empty")
    sentences = split_sentences(words)
    spans = segment(sentences, scenario, level)
    timings = section_timings(spans, sentences, scenario, level, catalogue.thresholds)
    by_section = {
        span.id: tuple(sentences[span.first_sentence : span.last_sentence + 1])
        for span in spans
        if span.first_sentence is not None and span.last_sentence is not None
    }
    delivery = measure_delivery(words, sentences, catalogue.thresholds)
    view = AnswerView(
        words=words,
        sentences=tuple(sentences),
        sections=by_section,
        timings=tuple(timings),
        level=level,
        budget_s=scenario.levels[level].budget_s,
        fillers=delivery.filler_matches,
        words_per_minute=delivery.words_per_minute,
        speaking_s=delivery.speaking_s,
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
        verdict=judge(flags, timings, scenario.principle, said, sum(len(s.signals) for s in scenario.sections)),
        engine=engine,
        source=transcript.source,
    )
