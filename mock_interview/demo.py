"""The demo's stand-in candidate: recorded answers played into the real capture path.

ALSA's `file` plugin can serve a file as a capture device. The demo points ALSA's
default device at such a plugin before PortAudio starts, and before each answer
links the plugin's input file to the recording that answers that turn. The session
then records through sounddevice exactly as from a microphone; the interviewer's
voice goes to ALSA's null device.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from mock_interview.errors import SetupError
from mock_interview.speech.audio import load_audio, to_int16
from mock_interview.store import Turn

DEMO_SCENARIO = "dive-deep-webhook"
MAIN_ANSWER = "weak-joe.flac"  # the seed's weak answer: it draws the follow-ups a bar raiser would ask
SYSTEM_ALSA_CONF = (Path("/usr/share/alsa/alsa.conf"), Path("/usr/local/share/alsa/alsa.conf"))
ASOUNDRC = """\
pcm.demo_null {{ type null }}
pcm.demo_mic {{ type file slave.pcm "demo_null" file "/dev/null" infile "{infile}" format "raw" }}
pcm.!default {{ type asym playback.pcm "demo_null" capture.pcm "demo_mic" }}
"""


def answers_dir() -> Path:
    """The recorded answers: audio_fixtures/ in a checkout, or the copy inside an installed package."""
    for candidate in (Path(__file__).parent.parent / "audio_fixtures", Path(__file__).parent / "audio_fixtures"):
        if (candidate / MAIN_ANSWER).is_file():
            return candidate
    raise SetupError("the demo's recorded answers are missing (audio_fixtures/); reinstall mock-interview")


def answer_for(turn: Turn, answered_probes: int) -> Path:
    """The stand-in's answer to TURN: the weak main answer, then follow-ups alternately strong and weak."""
    folder = answers_dir()
    if turn.kind == "question":
        return folder / MAIN_ANSWER
    quality = "strong" if answered_probes % 2 == 0 else "weak"
    path = folder / f"probe-{turn.ref}-{quality}.flac"
    if not path.is_file():
        raise SetupError(f"the demo has no recorded answer for the follow-up '{turn.ref}' ({path.name})")
    return path


def file_backed_microphone(workdir: Path) -> Callable[[Path], None]:
    """Make ALSA's default capture device read from a file; returns the function that loads the next answer.

    Must run before sounddevice is imported: PortAudio reads the ALSA configuration once.
    """
    conf = next((c for c in SYSTEM_ALSA_CONF if c.is_file()), None)
    if conf is None or not sys.platform.startswith("linux"):
        raise SetupError("the demo plays its answers through ALSA, which needs Linux with alsa-lib (libasound2)")
    if "sounddevice" in sys.modules:
        raise RuntimeError("file_backed_microphone must run before sounddevice is imported")
    infile = workdir / "microphone.raw"
    infile.touch()  # PortAudio opens every device when it starts; without the file this one is left broken
    (workdir / "asoundrc").write_text(ASOUNDRC.format(infile=infile), encoding="utf-8")
    os.environ["ALSA_CONFIG_PATH"] = f"{conf}:{workdir / 'asoundrc'}"

    def load(answer: Path) -> None:
        # Raw 16 kHz int16 is what the device serves; after its end the device reads silence,
        # which is what ends each answer.
        samples = to_int16(load_audio(answer))
        staged = workdir / "next.raw"
        samples.tofile(staged)
        os.replace(staged, infile)  # the plugin opens its file when the stream opens, so swap it whole

    return load
