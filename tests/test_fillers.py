"""Filled pauses found in the sound: the pitch tracker, and the detector on sounds whose answer is known.

The sounds are built here from a glottal pulse train shaped by formant resonators, so each test
knows exactly where a held "uh" is and where a word glides. The detector's figures on real
recorded speech are in benchmarks/analysis_quality.py and tests/test_real_speech.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from mock_interview.analysis.transcript import Word
from mock_interview.speech.audio import SAMPLE_RATE
from mock_interview.speech.fillers import find_fillers
from mock_interview.speech.pitch import track_pitch

RNG = np.random.default_rng(7)


def voiced(seconds: float, f0_start: float, f0_end: float, formants_start, formants_end) -> np.ndarray:
    """A voiced sound: a pulse train whose pitch, and a vocal tract whose formants (frequency, bandwidth),
    move linearly from start to end; two-pole resonators in cascade, one per formant."""
    n = int(seconds * SAMPLE_RATE)
    f0 = np.linspace(f0_start, f0_end, n)
    phase = np.cumsum(f0 / SAMPLE_RATE)
    return _vocal_tract((np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64), formants_start, formants_end)


def hoarse(seconds: float, formants) -> np.ndarray:
    """A vowel said with no steady voice (hoarse, with a cold): noise through the vocal tract, no pitch at all."""
    return _vocal_tract(RNG.normal(0, 1, int(seconds * SAMPLE_RATE)), formants, formants)


def _vocal_tract(source: np.ndarray, formants_start, formants_end) -> np.ndarray:
    n, out = len(source), source
    for (a, bandwidth), (b, _) in zip(formants_start, formants_end, strict=True):
        freq = np.linspace(a, b, n)
        r = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
        a1, a2 = -2 * r * np.cos(2 * np.pi * freq / SAMPLE_RATE), r * r
        y = np.zeros(n)
        y1 = y2 = 0.0
        for i in range(n):
            y[i] = out[i] - a1[i] * y1 - a2 * y2
            y1, y2 = y[i], y1
        out = y
    out *= np.hanning(n) ** 0.2
    return 0.3 * out / np.max(np.abs(out))


SCHWA = [(550.0, 80.0), (1500.0, 100.0), (2500.0, 120.0)]
UH = [(640.0, 80.0), (1190.0, 100.0), (2390.0, 120.0)]  # the vowel of "hut" (Peterson and Barney 1952, men)
WORD_FROM = [(300.0, 80.0), (2200.0, 100.0), (3000.0, 120.0)]  # an "ee"-like start
WORD_TO = [(750.0, 80.0), (1100.0, 100.0), (2400.0, 120.0)]  # gliding to an "ah"-like end


def silence(seconds: float) -> np.ndarray:
    return RNG.normal(0, 0.0005, int(seconds * SAMPLE_RATE))


def word_sound(seconds: float = 0.35) -> np.ndarray:
    return voiced(seconds, 140, 100, WORD_FROM, WORD_TO)


@pytest.mark.parametrize("f0", [85.0, 120.0, 210.0, 320.0])
def test_pitch_of_a_voiced_sound(f0):
    sound = voiced(0.5, f0, f0, SCHWA, SCHWA).astype(np.float32)
    track = track_pitch(sound, 0.0, 0.5)
    steady = track.f0[5:-5]
    assert np.all(steady > 0)
    assert abs(float(np.median(steady)) / f0 - 1) < 0.02
    assert float(np.median(track.aperiodicity[5:-5])) < 0.2


def test_noise_is_not_voiced():
    track = track_pitch(RNG.normal(0, 0.05, SAMPLE_RATE).astype(np.float32), 0.0, 1.0)
    assert np.mean(track.aperiodicity > 0.3) > 0.9


def _answer(middle: np.ndarray) -> tuple[np.ndarray, tuple[Word, ...], float]:
    """word, pause holding MIDDLE, word; the words timed as Whisper would time them, around the pause."""
    lead, first, gap_pad = silence(0.3), word_sound(), silence(0.15)
    parts = [lead, first, gap_pad, middle, gap_pad, word_sound(), silence(0.4)]
    audio = np.concatenate(parts).astype(np.float32)
    t_first = len(lead) / SAMPLE_RATE
    t_middle = (len(lead) + len(first) + len(gap_pad)) / SAMPLE_RATE
    t_second = t_middle + (len(middle) + len(gap_pad)) / SAMPLE_RATE
    words = (Word("So", t_first, t_first + 0.35), Word("then", t_second, t_second + 0.35))
    return audio, words, t_middle


def test_a_held_uh_between_words_is_found():
    audio, words, at = _answer(voiced(0.5, 118, 112, SCHWA, SCHWA))
    found = find_fillers(audio, words)
    assert len(found) == 1, found
    assert found[0].heard == "acoustic" and found[0].word in ("uh", "um")
    assert abs(found[0].start - at) < 0.1 and abs(found[0].end - (at + 0.5)) < 0.1


def test_a_held_uh_inside_a_stretched_word_is_found():
    uh = voiced(0.55, 125, 120, SCHWA, SCHWA)
    sound = np.concatenate([silence(0.3), word_sound(), uh, word_sound(), silence(0.4)]).astype(np.float32)
    # Whisper stretched "the" over the filler: one word 0.9 s long.
    words = (Word("the", 0.3, 1.2), Word("logs", 1.2, 1.55))
    found = find_fillers(sound, words)
    assert len(found) == 1, found
    assert abs(found[0].start - 0.65) < 0.1 and abs(found[0].end - 1.2) < 0.1


def test_a_hoarse_uh_with_no_pitch_is_found():
    """With a cold, a filled pause can carry no pitch the tracker can follow; its held vowel still tells it."""
    audio, words, at = _answer(hoarse(0.6, UH))
    found = find_fillers(audio, words)
    assert len(found) == 1, found
    assert found[0].word == "uh" and found[0].heard == "acoustic"
    assert abs(found[0].start - at) < 0.15 and abs(found[0].end - (at + 0.6)) < 0.15


def test_gliding_speech_and_silence_are_not_fillers():
    for middle in (
        voiced(0.5, 160, 95, WORD_FROM, WORD_TO),  # a word Whisper missed: pitch and vowel both move
        silence(0.5),  # a silent pause
        RNG.normal(0, 0.01, int(0.5 * SAMPLE_RATE)),  # a breath
        hoarse(0.6, WORD_FROM),  # a hoarse "ee" of a word Whisper missed: not the neutral vowel
    ):
        audio, words, _ = _answer(middle)
        assert find_fillers(audio, words) == ()


def test_delivery_counts_each_filler_once(scenario, catalogue):
    """A filler Whisper wrote (even as a burst of zero-length "uh, uh") and the detector heard is one filler."""
    from dataclasses import replace

    from mock_interview.analysis.pacing import measure_delivery
    from mock_interview.analysis.transcript import Filler, estimate_timing, split_sentences

    transcript = estimate_timing("So I pulled the logs. Uh, uh, I found the race. Then I wrote the fix.")
    uh = next(w for w in transcript.words if w.word.startswith("Uh"))
    burst = tuple(
        replace(w, start=uh.start, end=uh.start) if w.word.lower().startswith("uh") else w for w in transcript.words
    )
    heard = (Filler("uh", uh.start - 0.1, uh.start + 0.3, "acoustic"), Filler("um", 0.0, 0.0, "acoustic"))
    delivery = measure_delivery(replace(transcript, words=burst, fillers=heard), split_sentences(burst),
                                catalogue.thresholds)  # fmt: skip
    assert delivery.fillers == {"uh": 1, "um": 1}
    assert [f.heard for f in delivery.filler_events] == ["acoustic", "acoustic"]


def test_a_stammered_cut_off_word_is_no_filler(catalogue):
    """Whisper writes a stammer as a cut-off word with a hyphen ("Mm -mm Montreal"): no filled pause, though the
    same "mm" on its own is one."""
    from mock_interview.analysis.pacing import measure_delivery
    from mock_interview.analysis.transcript import Transcript, split_sentences

    def fillers(*spoken: str) -> dict[str, int]:
        words = tuple(Word(w, 0.5 * i, 0.5 * i + 0.3) for i, w in enumerate(spoken))
        transcript = Transcript(words, 0.5 * len(words))
        return measure_delivery(transcript, split_sentences(words), catalogue.thresholds).fillers

    assert fillers("Montreal", "Mm", "-mm", "-mm", "Montreal.") == {}
    assert fillers("Montreal,", "mm,", "Montreal.") == {"mm": 1}


def test_heard_fillers_survive_a_saved_transcript(tmp_path):
    import json

    from mock_interview.analysis.transcript import Filler, Transcript, read_transcript_file

    transcript = Transcript(
        (Word("So", 0.0, 0.3), Word("then", 1.2, 1.5)), 1.5, fillers=(Filler("um", 0.4, 1.0, "acoustic"),)
    )
    path = tmp_path / "t.json"
    path.write_text(json.dumps(transcript.to_dict()))
    assert read_transcript_file(path).fillers == transcript.fillers
