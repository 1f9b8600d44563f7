"""Transcription while the answer is given: where utterances are cut, how the pieces are put back together,
and the real model hearing a real recording utterance by utterance and through the capture path."""

from __future__ import annotations

import difflib
import json
import re
import threading

import jiwer
import numpy as np
import pytest

from alsa_mic import SAMPLE_RATE, FifoMicrophone, read_clip
from conftest import FIXTURES, run_cli, sidecar
from mock_interview.analysis.transcript import Transcript, Word
from mock_interview.errors import AudioError
from mock_interview.speech.audio import load_audio, to_int16
from mock_interview.speech.stream import HOP, MAX_UTTERANCE_S, StreamingTranscriber, UtteranceCutter
from mock_interview.speech.transcribe import transcribe_audio

BLOCK = SAMPLE_RATE // 10
RNG = np.random.default_rng(7)


def _tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return level * np.sin(2 * np.pi * 180 * t) * (1 + 0.2 * np.sin(2 * np.pi * 3 * t))


def _quiet(seconds: float) -> np.ndarray:
    return RNG.normal(0, 1e-4, int(seconds * SAMPLE_RATE))


def _pcm(audio: np.ndarray) -> np.ndarray:
    return to_int16(audio.astype(np.float32))


def _cut(pcm: np.ndarray) -> list:
    cutter = UtteranceCutter()
    found = []
    for i in range(0, len(pcm), BLOCK):
        found += cutter.feed(pcm[i : i + BLOCK])
    return found + [cutter.rest()]


def test_cuts_fall_in_the_pauses_and_cover_the_whole_recording():
    spoken = [(0.3, 2.0), (3.0, 5.5), (6.3, 9.0)]  # seconds; the pauses are 1.0 and 0.8 s
    audio = np.concatenate([_quiet(0.3), _tone(1.7), _quiet(1.0), _tone(2.5), _quiet(0.8), _tone(2.7), _quiet(1.0)])
    pieces = _cut(_pcm(audio))
    assert pieces[0].start == 0 and pieces[-1].end == len(audio) // BLOCK * BLOCK
    assert all(a.end == b.start for a, b in zip(pieces, pieces[1:]))
    assert all(p.start % HOP == 0 for p in pieces)
    cuts = [p.end / SAMPLE_RATE for p in pieces[:-1]]
    pauses = [(spoken[0][1], spoken[1][0]), (spoken[1][1], spoken[2][0]), (spoken[2][1], len(audio) / SAMPLE_RATE)]
    assert len(cuts) == 3
    for cut, (end, next_start) in zip(cuts, pauses):
        assert end < cut < next_start
    assert [p.speech for p in pieces] == [True, True, True, False]  # what follows the last pause is silence


def test_blocks_of_any_size_are_cut_alike():
    audio = _pcm(np.concatenate([_quiet(0.3), _tone(1.7), _quiet(1.0), _tone(2.5), _quiet(0.8)]))
    cutter = UtteranceCutter()
    odd = [u for i in range(0, len(audio), 999) for u in cutter.feed(audio[i : i + 999])]
    assert odd + [cutter.rest()] == _cut(audio)


def test_a_long_run_without_a_pause_is_cut_at_its_quietest():
    # Twenty seconds of sound with one short dip, too short to count as a pause, a second before the limit.
    dip_s = MAX_UTTERANCE_S - 1.0
    audio = np.concatenate([_tone(dip_s), _tone(0.1, level=0.02), _tone(19.9 - dip_s)])
    pieces = _cut(_pcm(audio))
    assert pieces[0].end / SAMPLE_RATE == pytest.approx(dip_s + 0.05, abs=0.05)
    assert all((p.end - p.start) / SAMPLE_RATE <= MAX_UTTERANCE_S for p in pieces)


def test_silence_is_not_speech():
    pieces = _cut(_pcm(_quiet(3.0)))
    assert not any(p.speech for p in pieces)


class OnsetEngine:
    """A stand-in engine for the bookkeeping: one word wherever the sound it is given first rises, numbered by
    call. With RELEASE, calls from the utterance worker wait for it (a worker that falls behind)."""

    name, model = "onset", "none"

    def __init__(self, fail_on: int | None = None, release: threading.Event | None = None) -> None:
        self.calls: list[float] = []
        self.fail_on = fail_on
        self.release = release
        self.waiting = threading.Event()

    def transcribe(self, audio, progress=None, beam_size=None, utterance=False) -> Transcript:
        if self.release is not None and threading.current_thread().name == "transcribe-utterances":
            self.waiting.set()
            self.release.wait()
        self.calls.append(len(audio) / SAMPLE_RATE)
        if len(self.calls) == self.fail_on:
            raise RuntimeError("the engine broke")
        onset = int(np.argmax(np.abs(audio) > 0.05)) / SAMPLE_RATE
        return Transcript((Word(f"w{len(self.calls)}", onset, onset + 0.4),), len(audio) / SAMPLE_RATE)


def _feed(transcriber: StreamingTranscriber, pcm: np.ndarray, keep_up: bool) -> None:
    for i in range(0, len(pcm), BLOCK):
        transcriber.feed(pcm[i : i + BLOCK].tobytes())
        if keep_up:
            transcriber._jobs.join()  # a worker as quick as the speaker


def _three_utterances() -> np.ndarray:
    # Recordings open on room sound: the detector learns its floor there.
    parts = [_quiet(0.3), _tone(1.5), _quiet(1.0), _tone(1.5), _quiet(1.0), _tone(1.5), _quiet(0.2)]
    return _pcm(np.concatenate(parts))


def test_words_heard_piece_by_piece_are_placed_in_the_whole_recording():
    engine, heard = OnsetEngine(), []
    transcriber = StreamingTranscriber(engine, heard.append)
    pcm = _three_utterances()
    _feed(transcriber, pcm, keep_up=True)
    assert [len(words) for words in heard] == [1, 2]  # the live view saw each utterance as it was heard
    transcript = transcriber.finish("test")
    assert [w.word for w in transcript.words] == ["w1", "w2", "w3"]
    assert [w.start for w in transcript.words] == pytest.approx([0.3, 2.8, 5.3], abs=0.01)
    # Only the last utterance was left when the answer ended.
    assert engine.calls[-1] == pytest.approx((len(pcm) - transcriber.cut[-1].end) / SAMPLE_RATE)


def test_a_worker_behind_finishes_what_it_has_in_hand_and_the_rest_is_heard_in_one_piece():
    release = threading.Event()
    engine = OnsetEngine(release=release)
    transcriber = StreamingTranscriber(engine)
    pcm = _three_utterances()
    _feed(transcriber, pcm, keep_up=False)
    # The answer ends while the worker is still on the first utterance; the other two were never started.
    assert engine.waiting.wait(timeout=10)
    transcriber.end()
    release.set()
    transcript = transcriber.finish("test")
    first = transcriber.cut[0]
    in_hand, rest = (first.end - first.start) / SAMPLE_RATE, (len(pcm) - first.end) / SAMPLE_RATE
    assert sorted(engine.calls) == pytest.approx(sorted([in_hand, rest]))
    assert [w.start for w in transcript.words] == pytest.approx([0.3, 2.8], abs=0.01)


def test_an_engine_failure_reaches_the_caller():
    transcriber = StreamingTranscriber(OnsetEngine(fail_on=1))
    _feed(transcriber, _three_utterances(), keep_up=True)
    with pytest.raises(RuntimeError, match="engine broke"):
        transcriber.finish("test")


def test_a_broken_live_view_does_not_cost_the_transcript():
    def broken(words):
        raise ValueError("view")

    transcriber = StreamingTranscriber(OnsetEngine(), broken)
    _feed(transcriber, _three_utterances(), keep_up=True)
    assert len(transcriber.finish("test").words) == 3
    assert isinstance(transcriber.view_failure, ValueError)


def test_silence_only_says_no_speech():
    transcriber = StreamingTranscriber(OnsetEngine())
    _feed(transcriber, _pcm(_quiet(3.0)), keep_up=True)
    with pytest.raises(AudioError, match="no speech"):
        transcriber.finish("quiet.wav")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split())


def test_real_answer_heard_while_spoken_is_heard_as_well_as_after(engine):
    """strong-joe (82 s, Piper's neural voice) through the streaming transcriber with a worker that keeps up,
    against the same model hearing the whole file."""
    audio = load_audio(FIXTURES / "strong-joe.flac")
    reference = sidecar("strong-joe")["text"]
    transcriber = StreamingTranscriber(engine)
    _feed(transcriber, to_int16(audio), keep_up=True)
    assert transcriber.windows, "the idle worker heard runs of utterances again as windows"
    streamed = transcriber.finish("strong-joe")
    whole = transcribe_audio(audio, engine, "strong-joe")
    streamed_wer = jiwer.wer(_norm(reference), _norm(streamed.text))
    assert streamed_wer <= 0.2
    assert streamed_wer <= jiwer.wer(_norm(reference), _norm(whole.text)) + 0.05
    # The same words are timed alike: word starts agree within a tenth of a second for most of them.
    a, b = [(_norm(w.word), w.start) for w in whole.words], [(_norm(w.word), w.start) for w in streamed.words]
    matcher = difflib.SequenceMatcher(a=[x[0] for x in a], b=[x[0] for x in b], autojunk=False)
    gaps = [abs(a[i + k][1] - b[j + k][1]) for i, j, n in matcher.get_matching_blocks() for k in range(n)]
    assert len(gaps) >= 0.85 * len(a)
    assert np.median(gaps) <= 0.05 and np.percentile(gaps, 90) <= 0.3
    assert all(x.start <= x.end <= y.start + 1e-6 for x, y in zip(streamed.words, streamed.words[1:]))
    assert streamed.words[-1].end <= len(audio) / SAMPLE_RATE + 0.05


def test_mock_answer_is_heard_while_it_is_given(tmp_path):
    """The weak answer spoken in real time into the capture device: the progress lines, printed while it is
    recorded, show the section the answer is in, and the report is the one the recording deserves. (Eight
    seconds of silence end it: the first estimate waits for the sentence model to load on a slow machine.)"""
    answer = read_clip(FIXTURES / "weak-joe.flac")
    sessions = tmp_path / "sessions"
    with FifoMicrophone(tmp_path, [answer], paced={0}) as mic:
        run = run_cli("mock", "--sessions", str(sessions), "--silence", "8", "--probes", "0", "--no-voice",
                      "--format", "json", env=mic.env)  # fmt: skip
    assert run.code == 0, run.stderr
    live = [line for line in run.stderr.splitlines() if line.startswith("● REC")]
    sections = [m.group(1) for line in live if (m := re.search(r"(Situation|Task|Action|Result|Reflection) \d", line))]
    assert sections, "\n".join(live)
    report = json.loads(run.stdout)
    assert {"handoff", "unverified", "no-metric"} <= {f["id"] for f in report["flags"]}
    assert jiwer.wer(_norm(sidecar("weak-joe")["text"]), _norm(report["transcript"]["text"])) <= 0.25
