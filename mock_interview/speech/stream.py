"""Transcription while the candidate is still speaking.

The recording is cut into utterances at the pauses between them (the same energy
detector that ends an answer), and a background worker transcribes each finished
utterance, and tracks its pitch for the filler detector, while the next one is
being spoken. When the answer ends only the last utterance is left to hear.

A cut falls in the middle of a pause, so no word is split; an utterance that runs
on without a long pause is cut at a short one, and at MAX_UTTERANCE_S at its
quietest moment, which keeps the last one short.

Whisper hears a short utterance less well than a long stretch (tiny.en's word
error rate on a 3-minute answer rose by half), so when the worker has nothing
newer to do it hears runs of utterances again as windows of up to
WHISPER_WINDOW_S, whose words replace the utterances'.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from mock_interview.analysis.transcript import Transcript, Word
from mock_interview.speech.audio import SAMPLE_RATE
from mock_interview.speech.capture import VoiceActivity
from mock_interview.speech.pitch import F0_MIN, HOP_S, PitchTrack, join_tracks, track_frames
from mock_interview.speech.pitch import WINDOW_S as PITCH_WINDOW_S
from mock_interview.speech.transcribe import Engine, checked_against_sound

FRAME = VoiceActivity.FRAME
HOP = int(HOP_S * SAMPLE_RATE)
# An utterance ends at a pause this long (a breath between sentences); once it has run SOFT_MAX_S at a pause
# this short (a comma's worth), and at MAX_UTTERANCE_S wherever it is quietest in the last QUIET_SEARCH_S.
PAUSE_S = 0.5
SHORT_PAUSE_S = 0.2
MIN_UTTERANCE_S = 1.0
SOFT_MAX_S = 4.0
MAX_UTTERANCE_S = 10.0
QUIET_SEARCH_S = 2.0
# Whisper hears up to 30 s at a time.
WHISPER_WINDOW_S = 28.0
# What is left when the answer ends is heard greedily: the candidate waits on it, and on a few seconds of speech
# a beam of 5 costs 0.1 s more and rarely changes a word.
REST_BEAM_SIZE = 1
# Audio past a frame that YIN reads: its window and the longest period it looks for.
PITCH_LOOKAHEAD = int(PITCH_WINDOW_S * SAMPLE_RATE) + int(SAMPLE_RATE / F0_MIN)


@dataclass(frozen=True)
class Utterance:
    """Samples START .. END of the recording, and whether the voice detector heard speech in them."""

    start: int
    end: int
    speech: bool


class UtteranceCutter:
    """Fed the recording block by block, says where each finished utterance ends."""

    def __init__(self) -> None:
        self.vad = VoiceActivity()
        self.samples = 0
        self.cut = 0  # where the open utterance began
        self.voiced_in_open = False
        self.pause_start: int | None = None  # where the current run of silence began
        self.levels: list[float] = []  # frame levels of the open utterance, for a forced cut
        self.leftover = np.zeros(0, dtype=np.int16)

    def feed(self, samples: np.ndarray) -> list[Utterance]:
        samples = np.concatenate([self.leftover, samples]) if len(self.leftover) else samples
        whole = len(samples) - len(samples) % FRAME
        self.leftover = samples[whole:]  # a block that is not whole frames: the rest goes with the next
        finished = []
        for start in range(0, whole, FRAME):
            self.vad.feed(samples[start : start + FRAME])
            self.samples += FRAME
            self.levels.append(float(np.abs(samples[start : start + FRAME]).mean()))
            done = self._frame(self.vad.speaking)
            if done is not None:
                finished.append(done)
        return finished

    def _frame(self, voiced: bool) -> Utterance | None:
        now = self.samples
        if voiced:
            self.voiced_in_open = True
            self.pause_start = None
        elif self.pause_start is None:
            self.pause_start = now - FRAME
        length_s = (now - self.cut) / SAMPLE_RATE
        if self.voiced_in_open and self.pause_start is not None and length_s >= MIN_UTTERANCE_S:
            pause_s = (now - self.pause_start) / SAMPLE_RATE
            if pause_s >= PAUSE_S or (pause_s >= SHORT_PAUSE_S and length_s >= SOFT_MAX_S):
                return self._close((self.pause_start + now) // 2)
        if length_s >= MAX_UTTERANCE_S:
            # Not in the last few frames: the pitch tracker reads a little past the cut.
            search, margin = int(QUIET_SEARCH_S * SAMPLE_RATE / FRAME), 5
            quietest = int(np.argmin(self.levels[-search:-margin])) + len(self.levels) - search
            return self._close(self.cut + quietest * FRAME + FRAME // 2)
        return None

    def _close(self, at: int) -> Utterance:
        at -= at % HOP  # on the pitch tracker's frame grid
        done = Utterance(self.cut, at, self.voiced_in_open)
        self.levels = self.levels[(at - self.cut) // FRAME :]
        self.cut = at
        self.voiced_in_open = self.vad.speaking
        return done

    def rest(self) -> Utterance:
        """What is left after the last cut, once the recording has ended."""
        return Utterance(self.cut, self.samples, self.voiced_in_open)


@dataclass(frozen=True)
class Heard:
    """Words heard in samples START .. END of the recording."""

    start: int
    end: int
    words: tuple[Word, ...]


LIVE, WINDOW, STOP = 0, 1, 2  # the worker's priorities: the newest utterance first


class StreamingTranscriber:
    """Transcribes a recording utterance by utterance while it is made.

    `feed` takes int16 blocks on the recording thread and returns at once; `finish` gives the whole answer's
    transcript, checked against the sound like a file's. ON_HEARD is called on the worker thread with the
    words so far after each piece heard (the live view's transcript).
    """

    def __init__(self, engine: Engine, on_heard: Callable[[tuple[Word, ...]], None] | None = None) -> None:
        self.engine = engine
        self.on_heard = on_heard
        self.cutter = UtteranceCutter()
        self.blocks: list[np.ndarray] = []
        self.audio = np.zeros(0, dtype=np.float32)
        self.cut: list[Utterance] = []  # every finished utterance, in order
        self.utterances: list[Heard] = []
        self.windows: list[Heard] = []
        self.pitch: list[PitchTrack] = []
        self.failure: BaseException | None = None
        self.view_failure: Exception | None = None
        self._group: list[Utterance] = []  # utterances since the last window
        self._live_in_hand: Utterance | None = None  # the utterance the worker is hearing
        self._rest: _Rest | None = None  # set when the recording ends
        self._lock = threading.Lock()
        self._stopped = False
        self._jobs: queue.PriorityQueue[tuple[int, int, Utterance | None, np.ndarray | None]] = queue.PriorityQueue()
        self._sequence = 0
        self._worker = threading.Thread(target=self._work, name="transcribe-utterances", daemon=True)
        self._worker.start()

    def feed(self, block: bytes) -> None:
        samples = np.frombuffer(block, dtype="<i2")
        self.blocks.append(samples.astype(np.float32) / 32768.0)
        for utterance in self.cutter.feed(samples):
            self._hand_over(utterance)

    def _hand_over(self, utterance: Utterance) -> None:
        audio = self._joined()
        self.cut.append(utterance)
        # The worker gets its own copy, with the audio just past the cut that the pitch tracker reads.
        self._put(LIVE, utterance, audio[utterance.start : utterance.end + PITCH_LOOKAHEAD].copy())
        if self._group and utterance.end - self._group[0].start > WHISPER_WINDOW_S * SAMPLE_RATE:
            if sum(u.speech for u in self._group) > 1:
                window = Utterance(self._group[0].start, self._group[-1].end, True)
                self._put(WINDOW, window, audio[window.start : window.end].copy())
            self._group = []
        self._group.append(utterance)

    def _put(self, priority: int, utterance: Utterance | None, audio: np.ndarray | None) -> None:
        self._sequence += 1
        self._jobs.put((priority, self._sequence, utterance, audio))

    def _joined(self) -> np.ndarray:
        if self.blocks:
            self.audio = np.concatenate([self.audio, *self.blocks])
            self.blocks = []
        return self.audio

    def _work(self) -> None:
        while True:
            priority, _, utterance, audio = self._jobs.get()
            if priority == STOP:
                return
            try:
                with self._lock:  # what is in hand when the recording ends is finished, and used
                    start = not self._stopped and self.failure is None
                    self._live_in_hand = utterance if start and priority == LIVE else None
                if start:
                    self._do(priority, utterance, audio)
            finally:
                with self._lock:
                    self._live_in_hand = None
                self._jobs.task_done()  # a test waits on it (join) for a worker that keeps up

    def _do(self, priority: int, utterance: Utterance, audio: np.ndarray) -> None:
        try:
            pitch = None
            if priority == LIVE:
                first, count = utterance.start // HOP, (utterance.end - utterance.start) // HOP
                pitch = track_frames(audio, first, count, offset=utterance.start)
            heard = self._hear(utterance, audio)
        except BaseException as err:  # noqa: BLE001 - kept for finish() to raise on the caller's thread
            self.failure = err
            return
        with self._lock:
            if pitch is None:
                self.windows.append(heard)
            else:
                self.pitch.append(pitch)
                self.utterances.append(heard)
            words = self.words()
            view = not self._stopped  # nobody looks once the recording has ended, and finish needs the CPU
        if self.on_heard is not None and view:
            try:
                self.on_heard(words)
            except Exception as err:  # noqa: BLE001 - the live view is a help; the transcript must not wait on it
                self.on_heard, self.view_failure = None, err

    def _hear(self, utterance: Utterance, audio: np.ndarray, beam_size: int | None = None) -> Heard:
        length = utterance.end - utterance.start
        if not utterance.speech or length < FRAME:
            return Heard(utterance.start, utterance.end, ())
        heard = self.engine.transcribe(audio[:length], beam_size=beam_size, utterance=True)
        within = tuple(replace(w, end=min(w.end, heard.duration_s)) for w in heard.words)
        placed = replace(heard, words=within).shifted(utterance.start / SAMPLE_RATE)
        return Heard(utterance.start, utterance.end, placed)

    def words(self) -> tuple[Word, ...]:
        """The words heard so far, in order: a window's where one covers the utterance."""
        out: list[Word] = []
        used: set[int] = set()
        for heard in self.utterances:
            window = next((w for w in self.windows if w.start <= heard.start and heard.end <= w.end), None)
            if window is None:
                out.extend(heard.words)
            elif window.start not in used:
                used.add(window.start)
                out.extend(window.words)
        return tuple(out)

    def close(self) -> None:
        """Stop hearing: what is still queued is dropped."""
        with self._lock:
            self._stopped = True
        self._put(STOP, None, None)

    def end(self) -> None:
        """The recording has ended: start hearing what the worker has not, on a thread of its own, so that it
        runs while the recording is closed (finish takes it).

        What the worker has in hand it finishes, and that is kept; the rest is normally the last utterance. A
        worker that fell behind (audio that came faster than speech, or a busy machine) leaves more, up to the
        whole recording, which is no slower than hearing it utterance by utterance and is heard better."""
        if self._rest is not None:
            return
        audio = self._joined()
        self.close()
        with self._lock:
            # The worker takes utterances in order, so what it has heard is one stretch from the start.
            in_hand = [self._live_in_hand] if self._live_in_hand is not None else []
            heard_to = max((u.end for u in [*self.utterances, *in_hand]), default=0)
        speech = self.cutter.rest().speech or any(u.speech for u in self.cut if u.end > heard_to)
        self._rest = _Rest(Utterance(heard_to, len(audio), speech), audio)
        self._rest.thread = threading.Thread(target=self._hear_rest, name="transcribe-rest", daemon=True)
        self._rest.thread.start()

    def _hear_rest(self) -> None:
        rest = self._rest
        try:
            rest.heard = self._hear(rest.utterance, rest.audio[rest.utterance.start :], REST_BEAM_SIZE)
        except BaseException as err:  # noqa: BLE001 - raised by finish() on the caller's thread
            rest.failure = err

    def finish(self, source: str) -> Transcript:
        """The whole answer's transcript, checked against the sound like a file's. Raises AudioError when it
        holds no speech."""
        self.end()
        rest = self._rest
        start = rest.utterance.start
        # The pitch of the rest is tracked while Whisper hears it.
        rest_pitch = track_frames(rest.audio, start // HOP, (len(rest.audio) - start) // HOP)
        self._worker.join()
        rest.thread.join()
        for failure in (self.failure, rest.failure):
            if failure is not None:
                raise failure
        heard = Transcript(self.words() + rest.heard.words, round(len(rest.audio) / SAMPLE_RATE, 3))
        return checked_against_sound(heard, rest.audio, source, join_tracks([*self.pitch, rest_pitch]))


@dataclass
class _Rest:
    """What is left to hear when the recording ends, and what came of hearing it."""

    utterance: Utterance
    audio: np.ndarray  # the whole recording
    thread: threading.Thread | None = None
    heard: Heard | None = None
    failure: BaseException | None = None
