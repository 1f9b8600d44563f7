"""Timing: each STAR section against its target, and the delivery (pace, fillers, long pauses)."""

from __future__ import annotations

from dataclasses import dataclass

from mock_interview.analysis.patterns import SectionTiming, Thresholds, find_matches, word_regex
from mock_interview.analysis.star import SectionSpan
from mock_interview.analysis.transcript import Filler, Sentence, Transcript, Word, normalize
from mock_interview.scenario import Scenario

# Filler words Whisper wrote less than this far apart, and this short, are one filler written twice; one
# this close to a filler heard in the sound is that filler.
DUPLICATE_GAP_S = 0.15


@dataclass(frozen=True)
class Pause:
    start_s: float
    duration_s: float


@dataclass(frozen=True)
class Delivery:
    words_per_minute: float
    speaking_s: float
    fillers: dict[str, int]
    filler_events: tuple[Filler, ...]  # every filler, kept by Whisper or heard in the sound, in time order
    long_pauses: tuple[Pause, ...]


def section_timings(
    spans: list[SectionSpan], sentences: list[Sentence], scenario: Scenario, level: str, thresholds: Thresholds
) -> list[SectionTiming]:
    timings = []
    for span in spans:
        target = round(scenario.target_s(span.id, level), 1)
        if span.first_sentence is None or span.last_sentence is None:
            timings.append(SectionTiming(span.id, None, None, None, target, "missing"))
            continue
        start = sentences[span.first_sentence].start
        end = sentences[span.last_sentence].end
        duration = end - start
        if duration > target * thresholds.section_over_ratio:
            status = "over"
        elif duration < target * thresholds.section_under_ratio:
            status = "under"
        else:
            status = "ok"
        timings.append(SectionTiming(span.id, round(start, 2), round(end, 2), round(duration, 2), target, status))
    return timings


def _phrase(words: tuple[Word, ...]) -> str:
    return " ".join(normalize(w.word) for w in words)


def _cut_off(words: tuple[Word, ...], i: int) -> bool:
    """Whisper marks a cut-off word with a hyphen ("Mm -mm -mm Montreal"): a stammer, not a filled pause."""
    return words[i].word.strip().startswith("-") or (i + 1 < len(words) and words[i + 1].word.strip().startswith("-"))


def measure_delivery(transcript: Transcript, sentences: list[Sentence], thresholds: Thresholds) -> Delivery:
    words = transcript.words
    speaking = words[-1].end - words[0].start if words else 0.0
    wpm = len(words) / (speaking / 60) if speaking > 0 else 0.0
    filler_res = [word_regex(f) for f in thresholds.fillers]
    matches = [m for s in sentences for m in find_matches(filler_res, s)]
    kept: list[Filler] = []
    for m in matches:
        first, last = words[m.first], words[m.last]
        if any(_cut_off(words, i) for i in range(m.first, m.last + 1)):
            continue
        # Whisper sometimes writes one filler as a burst of zero-length "uh, uh, uh": count it once.
        if kept and first.start - kept[-1].end < DUPLICATE_GAP_S and last.end - first.start < DUPLICATE_GAP_S:
            continue
        kept.append(Filler(_phrase(words[m.first : m.last + 1]), first.start, last.end))
    heard = transcript.fillers
    # A filler Whisper wrote down and the detector also heard is one filler; the sound gives its true times.
    kept = [k for k in kept if not any(h.start - DUPLICATE_GAP_S <= k.start <= h.end + DUPLICATE_GAP_S for h in heard)]
    events = tuple(sorted([*kept, *heard], key=lambda f: f.start))
    counts: dict[str, int] = {}
    for f in events:
        counts[f.word] = counts.get(f.word, 0) + 1
    pauses = tuple(
        Pause(round(a.end, 2), round(b.start - a.end, 2))
        for a, b in zip(words, words[1:])
        if b.start - a.end >= thresholds.long_pause_s
    )
    return Delivery(round(wpm, 1), round(speaking, 2), counts, events, pauses)
