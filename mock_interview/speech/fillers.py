"""Filled pauses ("um", "uh") heard in the sound, since Whisper leaves most of them out of its words.

Whisper drops fillers: it leaves a gap between two words that still holds voice,
or stretches a neighbouring word over the filler ("the" timed at 1 s), so the
words cannot say where a filler is. The sound can: a filled pause is a held
neutral vowel, often closed by a hum, at a level pitch. Words glide in pitch and
change their spectrum from sound to sound every few hundredths of a second; a
filler holds both still for a quarter of a second or more.

So the whole answer is tracked for pitch (YIN), and every stretch of clear voice
whose pitch and spectrum stay steady for at least MIN_FILLER_S is a filled pause,
unless a filler word Whisper kept already covers it. A voice too hoarse or creaky
for the pitch tracker (a cold) gives no steady pitch to go on: there, in the time
the words leave unexplained, a filler is the neutral vowel held a little longer.
The thresholds were set on the development part of the real recordings
(tests/corpus/real_speech.yaml); benchmarks/analysis_quality.py reports recall and
precision on both parts.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from mock_interview.analysis.transcript import Filler, Word, normalize
from mock_interview.speech.audio import SAMPLE_RATE
from mock_interview.speech.pitch import HOP_S, PitchTrack, frame_span, track_frames

# A filled pause lasts about 0.2-1 s (Shriberg 1994; Clark and Fox Tree 2002); a held vowel of a word rarely
# stays steady this long.
MIN_FILLER_S = 0.25
# Voice: aperiodicity under this (0 = a pure tone, 1 = noise), within this many dB of the loud speech, with
# unvoiced dips of at most BRIDGE_S bridged (creaky voice at the end of a filler drops single frames).
MAX_APERIODICITY = 0.35
MAX_LEVEL_DROP_DB = 30.0
BRIDGE_S = 0.04
# Steadiness over the filler: spread of pitch in semitones, and mean frame-to-frame change of the spectrum's
# shape in dB over 16 bands up to 4 kHz.
MAX_PITCH_SPREAD_ST = 0.45
MAX_SPECTRAL_CHANGE_DB = 2.5
# The sound of a filler, for a low (adult male) voice: a central vowel with F1 at least SCHWA_MIN_F1 and F2
# within SCHWA_F2, or a hum with F1 at most HUM_MAX_F1. Voices pitched above HIGH_VOICE_F0 have formants a
# sixth higher on average.
SCHWA_F2 = (1100.0, 1700.0)
SCHWA_MIN_F1 = 550.0
HUM_MAX_F1 = 300.0
HIGH_VOICE_F0 = 165.0
# A word takes about this long per syllable; a run must lie mostly outside what the words around it account for.
SYLLABLE_S = 0.2
UNEXPLAINED_SHARE = 0.5
# The speaker's local pace is judged from this many words on either side, and slows the usual length at most so.
NEIGHBOURS = 4
MAX_PACE = 2.5
# Without a pitch to go on, a filler is told by its vowel alone: held at least MIN_UNVOICED_S (about a filled
# pause's mean length), looked at in windows of MIN_FILLER_S every UNVOICED_STEP_S, within UNVOICED_DROP_DB of the
# loud speech. Set on the development recordings, where the monologue recorded with a cold has no voiced fillers.
MIN_UNVOICED_S = 0.45
UNVOICED_STEP_S = 0.05
UNVOICED_DROP_DB = 20.0
TRANSCRIBED = {"um", "uh", "er", "erm", "ah", "hmm", "hm", "mm"}


@dataclass(frozen=True)
class Run:
    start: float
    end: float

    def overlaps(self, other: Word | Filler) -> bool:
        return other.start < self.end and self.start < other.end


def find_fillers(audio: np.ndarray, words: tuple[Word, ...], pitch: PitchTrack | None = None) -> tuple[Filler, ...]:
    """Filled pauses in AUDIO that Whisper left out of WORDS, in time order. PITCH, a track of the recording
    tracked while it was made, spares tracking it again."""
    if not words or len(audio) < SAMPLE_RATE * MIN_FILLER_S:
        return ()
    span = frame_span(words[0].start - 1.0, words[-1].end + 1.0, len(audio))
    track = pitch.frames(*span) if pitch is not None else None
    if track is None:
        track = track_frames(audio, *span)
    kept = [w for w in words if normalize(w.word) in TRANSCRIBED]
    spans = WordSpans.of(words)
    voiced = track.f0[track.f0 > 0]
    speaker_f0 = float(np.median(voiced)) if len(voiced) else 120.0
    found = []

    def worth_a_look(run: Run) -> bool:
        # A voiced run the words account for all but a little of holds no filler anywhere inside it (a part of
        # a run leaves no more unexplained than the whole): it is not worth the spectral look.
        return spans.unexplained_s(run) >= UNEXPLAINED_SHARE * MIN_FILLER_S

    loud_db = _loud_level(track)
    for run in _steady_runs(audio, track, loud_db, worth_a_look):
        if any(run.overlaps(w) for w in kept):
            continue  # Whisper wrote this one down; the transcript counts it
        if spans.unexplained_s(run) < UNEXPLAINED_SHARE * (run.end - run.start):
            continue  # a held vowel of a word said at its usual length
        kind = _filler_vowel(audio, run, speaker_f0)
        if kind is not None:
            found.append(Filler(kind, round(run.start, 3), round(run.end, 3), "acoustic"))
    for run, kind in _unvoiced_fillers(audio, track, loud_db, words, spans, speaker_f0):
        if not any(run.overlaps(f) for f in [*kept, *found]):
            found.append(Filler(kind, round(run.start, 3), round(run.end, 3), "acoustic"))
    return tuple(sorted(found, key=lambda f: f.start))


def _unvoiced_fillers(
    audio: np.ndarray, track: PitchTrack, loud_db: float, words: tuple[Word, ...], spans: WordSpans, f0: float
) -> list[tuple[Run, str]]:
    """Fillers said in a voice too hoarse or creaky for the pitch tracker (a cold): where the words leave time
    unexplained (a gap, or a word stretched past its usual length), a filler's vowel held for MIN_UNVOICED_S."""
    regions = [Run(a.end, b.start) for a, b in zip(words, words[1:]) if b.start - a.end >= MIN_FILLER_S]
    regions += [Run(w.start, w.end) for w, spare in zip(words, spans.spare) if spare >= MIN_FILLER_S]
    found: list[tuple[Run, str]] = []
    for region in regions:
        starts = np.arange(region.start, region.end - MIN_FILLER_S + 1e-9, UNVOICED_STEP_S)
        kinds = [_held_vowel(audio, track, Run(t, t + MIN_FILLER_S), loud_db, f0) for t in starts]
        for kind, group in groupby(enumerate(kinds), key=lambda pair: pair[1]):
            if kind is None:
                continue
            windows = [i for i, _ in group]
            run = Run(float(starts[windows[0]]), float(starts[windows[-1]]) + MIN_FILLER_S)
            length = run.end - run.start
            if length >= MIN_UNVOICED_S and spans.unexplained_s(run) >= UNEXPLAINED_SHARE * length:
                found.append((run, kind))
    return found


def _held_vowel(audio: np.ndarray, track: PitchTrack, run: Run, loud_db: float, f0: float) -> str | None:
    """The filler vowel over RUN, if it is loud enough to be voice at all (not a breath or the room)."""
    first = int(round((run.start - track.start_s) / HOP_S))
    level = track.level_db[max(0, first) : first + int(round((run.end - run.start) / HOP_S))]
    if not len(level) or level.mean() <= loud_db - UNVOICED_DROP_DB:
        return None
    return _filler_vowel(audio, run, f0)


def _expected_s(word: str) -> float | None:
    """How long a word takes to say, roughly; None when its spelling does not tell (numbers, acronyms)."""
    word = word.strip(".,!?;:\"'")
    if not word.isalpha() or (word.isupper() and len(word) > 1):
        return None
    vowels = sum(1 for a, b in zip(" " + word.lower(), word.lower()) if b in "aeiouy" and a not in "aeiouy")
    return SYLLABLE_S * max(1, vowels) + 0.1


def _usual_lengths(words: tuple[Word, ...]) -> list[float | None]:
    """Each word's usual length at the speaker's own pace there: its expected length scaled by how much longer
    than expected the words around it run (someone talking slowly on purpose stretches every word)."""
    expected = [_expected_s(w.word) for w in words]
    ratios = [None if e is None else (w.end - w.start) / e for w, e in zip(words, expected)]
    usual: list[float | None] = []
    for i in range(len(words)):
        around = [r for j, r in enumerate(ratios[max(0, i - NEIGHBOURS) : i + NEIGHBOURS + 1]) if r is not None
                  and j != min(i, NEIGHBOURS)]  # fmt: skip
        pace = min(MAX_PACE, max(1.0, statistics.median(around))) if around else 1.0  # np.median: 40x slower here
        usual.append(None if expected[i] is None else expected[i] * pace)
    return usual


@dataclass(frozen=True)
class WordSpans:
    """The words' spans, and how much of each is spare: its length beyond its usual one (Whisper stretches a
    word over a filler next to it)."""

    start: np.ndarray
    end: np.ndarray
    spare: np.ndarray

    @classmethod
    def of(cls, words: tuple[Word, ...]) -> WordSpans:
        start = np.array([w.start for w in words])
        end = np.array([w.end for w in words])
        usual = np.array([np.inf if u is None else u for u in _usual_lengths(words)])
        return cls(start, end, np.where(np.isinf(usual), 0.0, np.maximum(0.0, end - start - usual)))

    def unexplained_s(self, run: Run) -> float:
        """How much of the run no word accounts for: the time in gaps between words, and in each word the
        spare part."""
        overlap = np.minimum(run.end, self.end) - np.maximum(run.start, self.start)
        covered = np.maximum(0.0, overlap - self.spare)[overlap > 0].sum()
        return (run.end - run.start) - float(covered)


def _loud_level(track: PitchTrack) -> float:
    """The level of loud speech in the answer, the reference for what counts as voice."""
    return float(np.percentile(track.level_db, 95)) if len(track.level_db) else -20.0


def _voiced_runs(track: PitchTrack, loud_db: float) -> list[tuple[int, int]]:
    voiced = (track.f0 > 0) & (track.aperiodicity < MAX_APERIODICITY) & (track.level_db > loud_db - MAX_LEVEL_DROP_DB)
    frames = np.flatnonzero(voiced)
    if len(frames) == 0:
        return []
    bridge = int(round(BRIDGE_S / HOP_S))
    runs, first, previous = [], frames[0], frames[0]
    for f in frames[1:]:
        if f - previous > bridge + 1:
            runs.append((int(first), int(previous) + 1))
            first = f
        previous = f
    runs.append((int(first), int(previous) + 1))
    return runs


def _steady_runs(
    audio: np.ndarray, track: PitchTrack, loud_db: float, worth_a_look: Callable[[Run], bool]
) -> list[Run]:
    """Inside each voiced run worth a look, the stretches of at least MIN_FILLER_S over which pitch and spectrum
    hold still."""
    window = int(round(MIN_FILLER_S / HOP_S))
    found: list[Run] = []
    for a, b in _voiced_runs(track, loud_db):
        if b - a < window or not worth_a_look(Run(track.time(a), track.time(b))):
            continue
        semitones = _semitones(track.f0[a:b])
        shapes = _band_shapes(audio, track.time(a), b - a)
        # Every window of frames at once, through running sums: the pitch spread over its voiced frames and
        # the mean change of spectral shape from frame to frame.
        voiced = np.isfinite(semitones)
        pitch = np.where(voiced, semitones, 0.0)
        count = _window_sums(voiced.astype(float), window)
        mean = _window_sums(pitch, window) / np.maximum(count, 1)
        spread = np.sqrt(np.maximum(_window_sums(pitch**2, window) / np.maximum(count, 1) - mean**2, 0.0))
        change = np.sqrt(np.mean(np.diff(shapes, axis=0) ** 2, axis=1))
        mean_change = _window_sums(change, window - 1) / (window - 1)
        starts = np.flatnonzero(
            (count >= window // 2) & (spread <= MAX_PITCH_SPREAD_ST) & (mean_change <= MAX_SPECTRAL_CHANGE_DB)
        )
        cover = np.zeros(b - a + 1, dtype=int)
        np.add.at(cover, starts, 1)
        np.add.at(cover, starts + window, -1)
        steady = np.cumsum(cover[:-1]) > 0
        for s, e in _true_spans(steady):
            found.append(Run(track.time(a + s), track.time(a + e)))
    return found


def _window_sums(values: np.ndarray, width: int) -> np.ndarray:
    """The sum of every WIDTH consecutive values."""
    total = np.concatenate([[0.0], np.cumsum(values)])
    return total[width:] - total[:-width]


def _semitones(f0: np.ndarray) -> np.ndarray:
    voiced = f0[f0 > 0]
    if len(voiced) == 0:
        return np.full(len(f0), np.nan)
    with np.errstate(divide="ignore"):
        return np.where(f0 > 0, 12 * np.log2(np.where(f0 > 0, f0, 1) / np.median(voiced)), np.nan)


def _true_spans(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def _band_shapes(audio: np.ndarray, start_s: float, frames: int) -> np.ndarray:
    """Per 10 ms frame (window 25 ms), the levels in dB of 16 bands up to 4 kHz, less their mean: the
    spectrum's shape, whatever the loudness."""
    hop, window = int(HOP_S * SAMPLE_RATE), int(0.025 * SAMPLE_RATE)
    first = int(start_s * SAMPLE_RATE)
    segment = np.zeros(frames * hop + window)
    piece = audio[first : first + len(segment)].astype(np.float64)
    segment[: len(piece)] = piece
    stacked = segment[np.arange(frames)[:, None] * hop + np.arange(window)[None, :]] * np.hanning(window)
    power = np.abs(np.fft.rfft(stacked, 512)) ** 2
    edges = np.linspace(0, 128, 17).astype(int)  # 0-4 kHz in 16 bands of 250 Hz
    bands = np.stack([power[:, lo:hi].sum(axis=1) for lo, hi in zip(edges, edges[1:])], axis=1)
    levels = 10 * np.log10(bands + 1e-12)
    return levels - levels.mean(axis=1, keepdims=True)


def _lpc(frame: np.ndarray, order: int) -> np.ndarray | None:
    """Linear prediction coefficients by the autocorrelation method (Levinson-Durbin)."""
    r = np.correlate(frame, frame, "full")[len(frame) - 1 : len(frame) + order]
    if r[0] <= 0:
        return None
    a, error = np.zeros(order + 1), r[0]
    a[0] = 1.0
    for i in range(1, order + 1):
        k = -(r[i] + np.dot(a[1:i], r[i - 1 : 0 : -1])) / error
        a[1:i] = a[1:i] + k * a[i - 1 : 0 : -1]
        a[i] = k
        error *= 1 - k * k
        if error <= 0:
            return None
    return a


def formants(audio: np.ndarray, run: Run) -> tuple[float, float] | None:
    """Median first and second formants (Hz) over the run: LPC of order 10 at 8 kHz, 25 ms frames every 10 ms."""
    rate = SAMPLE_RATE // 2
    segment = audio[int(run.start * SAMPLE_RATE) : int(run.end * SAMPLE_RATE) : 2].astype(np.float64)
    segment = np.append(segment[:1], segment[1:] - 0.63 * segment[:-1])  # pre-emphasis
    window, hop = int(0.025 * rate), int(0.01 * rate)
    found = []
    for i in range(0, len(segment) - window, hop):
        a = _lpc(segment[i : i + window] * np.hamming(window), 10)
        if a is None:
            continue
        poles = [z for z in np.roots(a) if np.imag(z) > 0]
        peaks = sorted(
            np.angle(z) * rate / (2 * np.pi) for z in poles if -rate / np.pi * np.log(abs(z)) < 500
        )  # narrow resonances only
        peaks = [f for f in peaks if f > 150]
        if len(peaks) >= 2:
            found.append(peaks[:2])
    if not found:
        return None
    return float(np.median([f[0] for f in found])), float(np.median([f[1] for f in found]))


def _filler_vowel(audio: np.ndarray, run: Run, f0: float) -> str | None:
    """'uh' for a held central vowel (schwa: mid-open, F2 in the middle), 'um' for a hum (nasal murmur: F1
    very low), None for any other vowel: a word's held 'oh' or 'ee' is not a filler. Formant bands from
    Peterson and Barney (1952) for men, raised by a sixth for higher voices."""
    measured = formants(audio, run)
    if measured is None:
        return None
    scale = 1.0 if f0 < HIGH_VOICE_F0 else 1.17
    f1, f2 = measured[0] / scale, measured[1] / scale
    if not SCHWA_F2[0] <= f2 <= SCHWA_F2[1]:
        return None
    if f1 >= SCHWA_MIN_F1:
        return "uh"
    if f1 <= HUM_MAX_F1:
        return "um"
    return None
