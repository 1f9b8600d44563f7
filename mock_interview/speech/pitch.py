"""Pitch and voicing of short stretches of speech: the YIN estimator (de Cheveigné and Kawahara, 2002).

The filler detector asks whether a stretch of sound is one steady voiced note.
A bare autocorrelation peak mistakes quiet breath and room noise for voice; YIN's
cumulative mean normalised difference gives an aperiodicity per frame (near 0
for a clean voiced frame, near 1 for noise) and a pitch that does not jump an
octave at the slightest dip in level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mock_interview.speech.audio import SAMPLE_RATE

HOP_S = 0.01
WINDOW_S = 0.03
F0_MIN = 70.0  # Hz: a low male voice
F0_MAX = 400.0  # Hz: a high female voice
# A dip of the normalised difference below this marks the period (YIN's absolute threshold).
YIN_THRESHOLD = 0.15


@dataclass(frozen=True)
class PitchTrack:
    """Per 10 ms frame from `start_s`: pitch in Hz (0 where unvoiced), aperiodicity 0-1 and level in dBFS."""

    start_s: float
    f0: np.ndarray
    aperiodicity: np.ndarray
    level_db: np.ndarray

    def time(self, frame: int) -> float:
        return self.start_s + frame * HOP_S

    def frames(self, first: int, count: int) -> PitchTrack | None:
        """Frames FIRST .. FIRST+COUNT of the grid, when this track holds them all."""
        own_first = int(round(self.start_s / HOP_S))
        if first < own_first or first + count > own_first + len(self.f0):
            return None
        a = first - own_first
        return PitchTrack(
            first * HOP_S, self.f0[a : a + count], self.aperiodicity[a : a + count], self.level_db[a : a + count]
        )


def frame_span(start_s: float, end_s: float, audio_len: int) -> tuple[int, int]:
    """The 10 ms frames that fit between START_S and END_S in audio of AUDIO_LEN samples, as (first, count).
    Frames sit on one grid from the start of the audio, so tracks of adjacent stretches join seamlessly."""
    hop, window = int(HOP_S * SAMPLE_RATE), int(WINDOW_S * SAMPLE_RATE)
    first = max(0, int(round(start_s / HOP_S)))
    last = min(audio_len, int(end_s * SAMPLE_RATE))
    return first, max(0, (last - first * hop - window) // hop + 1)


def track_pitch(audio: np.ndarray, start_s: float, end_s: float) -> PitchTrack:
    """YIN on AUDIO (16 kHz float) between START_S and END_S, one frame every 10 ms."""
    return track_frames(audio, *frame_span(start_s, end_s, len(audio)))


def track_frames(audio: np.ndarray, first: int, count: int, offset: int = 0) -> PitchTrack:
    """YIN frames FIRST .. FIRST+COUNT of a recording of which AUDIO holds the samples from OFFSET on."""
    hop, window = int(HOP_S * SAMPLE_RATE), int(WINDOW_S * SAMPLE_RATE)
    max_lag = int(SAMPLE_RATE / F0_MIN)
    min_lag = int(SAMPLE_RATE / F0_MAX)
    if count == 0:
        empty = np.zeros(0)
        return PitchTrack(first * HOP_S, empty, empty, empty)
    begin, needed = first * hop - offset, (count - 1) * hop + window + max_lag
    padded = np.zeros(needed, dtype=audio.dtype)  # silence past the end of the recording
    piece = audio[begin : begin + needed]
    padded[: len(piece)] = piece
    index = np.arange(count)[:, None] * hop
    frames = padded[index + np.arange(window + max_lag)[None, :]].astype(np.float64)
    diff = _difference(frames, window, max_lag)
    cmnd = _cumulative_mean_normalised(diff)
    lags, dips = _first_dips(cmnd, min_lag)
    f0 = np.where(dips < YIN_THRESHOLD * 2.5, SAMPLE_RATE / lags, 0.0)
    rms = np.sqrt(np.mean(frames[:, :window] ** 2, axis=1))
    level = 20 * np.log10(rms + 1e-10)
    return PitchTrack(first * HOP_S, f0, np.clip(dips, 0.0, 1.0), level)


def join_tracks(tracks: list[PitchTrack]) -> PitchTrack:
    """Adjacent tracks on the frame grid as one."""
    return PitchTrack(
        tracks[0].start_s,
        np.concatenate([t.f0 for t in tracks]),
        np.concatenate([t.aperiodicity for t in tracks]),
        np.concatenate([t.level_db for t in tracks]),
    )


def _difference(frames: np.ndarray, window: int, max_lag: int) -> np.ndarray:
    """d(tau) = sum over the window of (x[j] - x[j + tau])^2, for every frame at once, through the FFT."""
    size = 1 << int(np.ceil(np.log2(window + max_lag)))
    head = np.zeros_like(frames)
    head[:, :window] = frames[:, :window]
    spectrum = np.fft.rfft(frames, size) * np.conj(np.fft.rfft(head, size))
    cross = np.fft.irfft(spectrum, size)[:, : max_lag + 1]
    squares = np.cumsum(np.concatenate([np.zeros((len(frames), 1)), frames**2], axis=1), axis=1)
    energy_head = squares[:, window][:, None]
    lags = np.arange(max_lag + 1)
    energy_shifted = squares[:, lags + window] - squares[:, lags]
    return np.maximum(energy_head + energy_shifted - 2 * cross, 0.0)


def _cumulative_mean_normalised(diff: np.ndarray) -> np.ndarray:
    lags = np.arange(1, diff.shape[1])
    running = np.cumsum(diff[:, 1:], axis=1) / lags
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] / np.maximum(running, 1e-12)
    return cmnd


def _first_dips(cmnd: np.ndarray, min_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """The first lag whose value falls under the threshold, taken to its local minimum; else the global minimum."""
    region = cmnd[:, min_lag:]
    below = region < YIN_THRESHOLD
    has = below.any(axis=1)
    first = np.where(has, below.argmax(axis=1), region.argmin(axis=1))
    # Walk down to the bottom of the dip the threshold crossing belongs to.
    rows = np.arange(len(region))
    for _ in range(region.shape[1]):
        nxt = np.minimum(first + 1, region.shape[1] - 1)
        step = has & (region[rows, nxt] < region[rows, first])
        if not step.any():
            break
        first = np.where(step, nxt, first)
    lag = first + min_lag
    # Parabolic interpolation around the dip for a pitch finer than one sample.
    left = cmnd[rows, np.maximum(lag - 1, 1)]
    mid = cmnd[rows, lag]
    right = cmnd[rows, np.minimum(lag + 1, cmnd.shape[1] - 1)]
    denom = left - 2 * mid + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    return lag + np.clip(shift, -1, 1), mid
