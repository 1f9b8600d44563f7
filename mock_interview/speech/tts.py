"""Speaking: pyttsx3 on espeak-ng renders each prompt to a WAV, which PortAudio then plays.

Rendering to a file first keeps every prompt in the session folder and makes playback
blocking and checkable: the caller starts recording only after `say` returns, so the
program's own voice never lands in an answer. pyttsx3's espeak driver returns from
`runAndWait()` before the file is written, so `render` waits for `finished-utterance`.
"""

from __future__ import annotations

import contextlib
import io
import threading
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from mock_interview.errors import InputError, SetupError
from mock_interview.speech.capture import sounddevice

DEFAULT_RATE = 165  # words per minute: an interviewer speaking clearly, a little under espeak's 175
RENDER_TIMEOUT_S = 120.0
CUE_HZ = 880.0
CUE_S = 0.15
NO_TTS_HINT = "or run with --no-voice to read the prompts instead"


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None


@lru_cache(maxsize=1)
def _engine():
    """One pyttsx3 engine per process: pyttsx3 keeps it alive internally, and a second init reuses it."""
    try:
        import pyttsx3

        return pyttsx3.init()
    except (OSError, RuntimeError, ImportError) as e:
        raise SetupError(
            f"cannot start text-to-speech ({type(e).__name__}: {e}); install espeak-ng "
            f"(Debian/Ubuntu: sudo apt install espeak-ng), {NO_TTS_HINT}"
        ) from None


def list_voices() -> list[Voice]:
    return [
        Voice(v.id, v.name, tuple(str(lang) for lang in (v.languages or ())), v.gender)
        for v in _engine().getProperty("voices")
    ]


def find_voice(wanted: str) -> Voice:
    """A voice by id ('gmw/en-US'), name ('English (America)') or language ('en-us'), ignoring case."""
    voices = list_voices()
    key = wanted.casefold()
    for matches in (
        lambda v: v.id.casefold() == key,
        lambda v: v.name.casefold() == key,
        lambda v: key in (lang.casefold() for lang in v.languages),
        lambda v: v.id.casefold().endswith("/" + key),
    ):
        found = [v for v in voices if matches(v)]
        if found:
            return found[0]
    raise InputError(f"--voice: no voice '{wanted}' (see `mock-interview voices`)")


class Speaker:
    """Renders prompts with pyttsx3 and, unless PLAY is False, plays them on the default output device."""

    def __init__(self, voice: str | None = None, rate: int | None = None, play: bool = True) -> None:
        engine = _engine()
        if voice is not None:
            engine.setProperty("voice", find_voice(voice).id)
        engine.setProperty("rate", rate or DEFAULT_RATE)
        self.play = play
        if play:
            _check_output()
        self._done = threading.Event()
        engine.connect("finished-utterance", lambda name, completed: self._done.set())

    def render(self, text: str, path: Path) -> Path:
        """Speak TEXT into the WAV file PATH (22,050 Hz mono)."""
        engine = _engine()
        self._done.clear()
        # The espeak driver prints "Audio saved to ..." from its own thread: keep stdout clean until it is done.
        with contextlib.redirect_stdout(io.StringIO()):
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            finished = self._done.wait(RENDER_TIMEOUT_S)
        if not finished or not path.exists():
            raise SetupError(f"text-to-speech did not finish rendering {path.name}, {NO_TTS_HINT}")
        return path

    def say(self, text: str, path: Path) -> Path:
        """Render TEXT to PATH and play it to the end."""
        self.render(text, path)
        if self.play:
            with wave.open(str(path), "rb") as w:
                samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
                rate = w.getframerate()
            _play(samples, rate)
        return path

    def cue(self) -> bool:
        """Start a short tone, the drill's signal that a section reached its target; False if it cannot sound."""
        if not self.play:
            return False
        t = np.arange(int(CUE_S * 22050)) / 22050
        fade = np.minimum(1.0, np.minimum(t, CUE_S - t) / 0.01)
        try:
            _play((0.3 * 32767 * np.sin(2 * np.pi * CUE_HZ * t) * fade).astype("<i2"), 22050, blocking=False)
        except SetupError:
            return False
        return True


def _check_output() -> None:
    sd = sounddevice()
    if not any(d["max_output_channels"] > 0 for d in sd.query_devices()):
        raise SetupError(f"no speakers found to play the questions: connect speakers or headphones, {NO_TTS_HINT}")
    try:
        sd.check_output_settings(channels=1, dtype="int16", samplerate=22050)
    except (sd.PortAudioError, ValueError) as e:
        raise SetupError(
            f"no speakers to play the questions ({str(e).splitlines()[0]}): connect speakers or headphones, "
            f"{NO_TTS_HINT}"
        ) from None


def _play(samples: np.ndarray, rate: int, blocking: bool = True) -> None:
    sd = sounddevice()
    try:
        sd.play(samples, rate, blocking=blocking)
    except (sd.PortAudioError, ValueError) as e:
        raise SetupError(
            f"cannot play sound ({str(e).splitlines()[0]}): connect speakers or headphones, {NO_TTS_HINT}"
        ) from None
