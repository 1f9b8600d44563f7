"""Word times checked against the sound itself.

Whisper's word timestamps stretch a word over a neighbouring silence: the first
word after a pause is often timed from the end of the previous word ("I" lasting
1.3 s). Section boundaries fall exactly there, so each word is trimmed to the
voiced part of its span when it holds a clear stretch of silence at its edge.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mock_interview.analysis.transcript import Word
from mock_interview.speech.audio import SAMPLE_RATE

FRAME_S = 0.01
# A silence this long inside a word's span cannot be part of the word (stop closures last about 0.1 s).
MIN_SILENCE_S = 0.2
# Shortest word left after trimming.
MIN_WORD_S = 0.08
# Whisper (tiny.en above all) writes stock lines into the silence after speech ends ("Thank you for
# watching"): this many words or more at the end with no sound under them are dropped. A lone quiet last word
# stays, and the test for sound is looser than for trimming so that a speaker trailing off is kept.
MIN_SILENT_TAIL_WORDS = 2
TAIL_SOUND_SHARE = 0.15


def frame_levels(audio: np.ndarray) -> np.ndarray:
    """Level of each 10 ms frame in dB."""
    hop = int(SAMPLE_RATE * FRAME_S)
    n = len(audio) // hop
    frames = audio[: n * hop].reshape(n, hop)
    mean_square = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / hop  # no squared copy of the audio
    return 20 * np.log10(np.sqrt(mean_square) + 1e-10)


def voiced_mask(levels: np.ndarray, share: float = 0.3) -> np.ndarray:
    """Frames louder than the noise floor by SHARE of the speech's dynamic range."""
    floor, loud = np.percentile(levels, 10), np.percentile(levels, 95)
    return levels > floor + share * (loud - floor)


def drop_silent_tail(words: tuple[Word, ...], audio: np.ndarray) -> tuple[Word, ...]:
    """WORDS without those at the end that have no sound at all under them (see MIN_SILENT_TAIL_WORDS)."""
    if not words or len(audio) < SAMPLE_RATE * FRAME_S * 10:
        return words
    sound = voiced_mask(frame_levels(audio), TAIL_SOUND_SHARE)
    keep = len(words)
    while keep > 1:
        word = words[keep - 1]
        a = int(word.start / FRAME_S)
        # A word timed past the last frame cannot be judged (Whisper stretches a clip's last word to its end).
        if a >= len(sound) - 1 or sound[a : max(a + 1, int(np.ceil(word.end / FRAME_S)))].any():
            break
        keep -= 1
    return words[:keep] if len(words) - keep >= MIN_SILENT_TAIL_WORDS else words


def _silent_runs(voiced: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
    runs, start = [], None
    for i in range(a, b):
        if not voiced[i] and start is None:
            start = i
        elif voiced[i] and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, b))
    min_frames = int(MIN_SILENCE_S / FRAME_S)
    return [(s, e) for s, e in runs if e - s >= min_frames]


def refine_word_times(words: tuple[Word, ...], audio: np.ndarray) -> tuple[Word, ...]:
    if not words or len(audio) < SAMPLE_RATE * FRAME_S * 10:
        return words
    voiced = voiced_mask(frame_levels(audio))
    n = len(voiced)
    refined = []
    for word in words:
        a, b = int(word.start / FRAME_S), min(n, int(np.ceil(word.end / FRAME_S)))
        start, end = word.start, word.end
        runs = _silent_runs(voiced, a, b)
        inner = [r for r in runs if r[1] < b - 1]
        # Leading silence: the word starts after the last silent run inside its span.
        if inner and (b - inner[-1][1]) * FRAME_S >= MIN_WORD_S:
            start = inner[-1][1] * FRAME_S
        # Trailing silence: the word ends where a silent run that reaches the end of its span begins.
        if runs and runs[-1][1] >= b - 1 and runs[-1][0] * FRAME_S - start >= MIN_WORD_S:
            end = runs[-1][0] * FRAME_S
        refined.append(replace(word, start=round(start, 3), end=round(end, 3)))
    return tuple(refined)
