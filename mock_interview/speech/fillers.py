"""Filled pauses ("um", "uh") heard in the sound, since Whisper leaves them out of its words.

Whisper drops fillers: it either leaves a gap between two words that still holds
voice, or stretches a neighbouring word over the filler ("the" timed at 1 s).
Both places are searched for one steady voiced sound: a run of clearly periodic
frames (YIN's aperiodicity), long enough to be a syllable held on purpose, whose
pitch barely moves and whose spectrum barely changes. Words glide in pitch and
change spectrum from phone to phone; a filled pause is a held schwa, often closed
by a hum ("um"). Thresholds were set on the development part of the real
recordings (benchmarks/analysis_quality.py reports recall and precision).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mock_interview.analysis.transcript import Filler, Word
from mock_interview.speech.audio import SAMPLE_RATE
from mock_interview.speech.pitch import HOP_S, PitchTrack, track_pitch

# A filled pause lasts about 0.2-1 s (Shriberg 1994; Clark and Fox Tree 2002): shorter runs are vowels of words.
MIN_FILLER_S = 0.2
MAX_FILLER_S = 1.6
# Gaps between words shorter than this cannot hold a filler.
MIN_GAP_S = 0.2
# Margin left at each edge of a gap between words.
EDGE_S = 0.08
# A word longer than its expected length by this much may hide a filler inside its span.
STRETCH_S = 0.35
SYLLABLE_S = 0.2
# Voicing: aperiodicity under this (0 = a pure tone, 1 = noise), and level within this of the speech's loud frames.
MAX_APERIODICITY = 0.3
MAX_LEVEL_DROP_DB = 30.0
# Steadiness: spread of pitch (semitones) and mean frame-to-frame spectral change (dB) over the run.
MAX_PITCH_SPREAD_ST = 1.5
MAX_SPECTRAL_CHANGE_DB = 4.0
# A hum closing the run, with this much more of its energy below 500 Hz than the vowel, makes it "um".
NASAL_RATIO_DB = 6.0


@dataclass(frozen=True)
class Run:
    start: float
    end: float


def find_fillers(audio: np.ndarray, words: tuple[Word, ...]) -> tuple[Filler, ...]:
    """Filled pauses in AUDIO that Whisper left out of WORDS, in time order."""
    if not words or len(audio) < SAMPLE_RATE * 0.1:
        return ()
    loud = _loud_level(audio, words)
    found: list[Filler] = []
    for start, end in _candidate_regions(words, len(audio) / SAMPLE_RATE):
        track = track_pitch(audio, start, end)
        for run in _steady_runs(track, loud):
            if _spectral_change_db(audio, run) <= MAX_SPECTRAL_CHANGE_DB:
                found.append(Filler(_kind(audio, run), round(run.start, 3), round(run.end, 3), "acoustic"))
    found.sort(key=lambda f: f.start)
    # Overlapping regions (a gap next to a stretched word) can find the same run twice.
    unique: list[Filler] = []
    for f in found:
        if not unique or f.start >= unique[-1].end:
            unique.append(f)
    return tuple(unique)


def _expected_s(word: str) -> float | None:
    """How long a word takes to say, roughly; None when its spelling does not tell (numbers, acronyms)."""
    if not word.isalpha() or (word.isupper() and len(word) > 1):
        # "99.7%" is four spoken words and "DSYM" four letters: a long span there is not a stretch.
        return None
    vowels = sum(1 for a, b in zip(" " + word.lower(), word.lower()) if b in "aeiouy" and a not in "aeiouy")
    return SYLLABLE_S * max(1, vowels) + 0.1


def _candidate_regions(words: tuple[Word, ...], duration: float) -> list[tuple[float, float]]:
    regions = []
    if words[0].start >= MIN_GAP_S:
        regions.append((max(0.0, words[0].start - 2.0), words[0].start))
    for a, b in zip(words, words[1:]):
        # Whisper's word edges are off by up to a tenth of a second: the edges of a gap may hold a word's vowel.
        if b.start - a.end >= MIN_GAP_S + 2 * EDGE_S:
            regions.append((a.end + EDGE_S, b.start - EDGE_S))
    for w in words:
        expected = _expected_s(w.word.strip(".,!?;:\"'"))
        if expected is not None and w.end - w.start >= expected + STRETCH_S:
            regions.append((w.start, w.end))
    last = words[-1].end
    if duration - last >= MIN_GAP_S:
        regions.append((last, min(duration, last + 2.0)))
    return regions


def _loud_level(audio: np.ndarray, words: tuple[Word, ...]) -> float:
    """The level of loud speech in the answer, the reference for what counts as voiced."""
    hop = int(HOP_S * SAMPLE_RATE)
    a, b = int(words[0].start * SAMPLE_RATE), int(words[-1].end * SAMPLE_RATE)
    span = audio[a:b]
    n = len(span) // hop
    if n == 0:
        return -20.0
    rms = np.sqrt(np.mean(span[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1))
    return float(np.percentile(20 * np.log10(rms + 1e-10), 95))


def _steady_runs(track: PitchTrack, loud_db: float) -> list[Run]:
    voiced = (track.f0 > 0) & (track.aperiodicity < MAX_APERIODICITY) & (track.level_db > loud_db - MAX_LEVEL_DROP_DB)
    runs: list[Run] = []
    i, n = 0, len(voiced)
    min_frames = int(round(MIN_FILLER_S / HOP_S))
    while i < n:
        if not voiced[i]:
            i += 1
            continue
        j = i
        while j < n and voiced[j]:
            j += 1
        steady = _pitch_spread_st(track.f0[i:j]) <= MAX_PITCH_SPREAD_ST
        if min_frames <= j - i <= MAX_FILLER_S / HOP_S and steady:
            runs.append(Run(track.time(i), track.time(j)))
        i = j
    return runs


def _pitch_spread_st(f0: np.ndarray) -> float:
    semitones = 12 * np.log2(f0 / np.median(f0))
    return float(np.std(semitones))


def _band_levels(audio: np.ndarray, run: Run) -> np.ndarray:
    """Levels in dB of 16 bands up to 4 kHz, per 10 ms frame of 25 ms, over the run."""
    hop, window = int(HOP_S * SAMPLE_RATE), int(0.025 * SAMPLE_RATE)
    a, b = int(run.start * SAMPLE_RATE), int(run.end * SAMPLE_RATE)
    segment = audio[a:b].astype(np.float64)
    count = (len(segment) - window) // hop + 1
    if count < 2:
        return np.zeros((0, 16))
    frames = segment[np.arange(count)[:, None] * hop + np.arange(window)[None, :]] * np.hanning(window)
    power = np.abs(np.fft.rfft(frames, 512)) ** 2
    edges = np.linspace(0, 128, 17).astype(int)  # 0-4 kHz in 16 bands of 250 Hz
    bands = np.stack([power[:, lo:hi].sum(axis=1) for lo, hi in zip(edges, edges[1:])], axis=1)
    return 10 * np.log10(bands + 1e-12)


def _spectral_change_db(audio: np.ndarray, run: Run) -> float:
    levels = _band_levels(audio, run)
    if len(levels) < 2:
        return float("inf")
    # Level changes alone are not changes of sound: compare shapes.
    shapes = levels - levels.mean(axis=1, keepdims=True)
    return float(np.mean(np.sqrt(np.mean(np.diff(shapes, axis=0) ** 2, axis=1))))


def _kind(audio: np.ndarray, run: Run) -> str:
    levels = _band_levels(audio, run)
    if len(levels) < 6:
        return "uh"
    low_share = levels[:, :2].max(axis=1) - levels[:, 2:].max(axis=1)
    third = len(levels) // 3
    return "um" if low_share[-third:].mean() - low_share[:third].mean() >= NASAL_RATIO_DB else "uh"
