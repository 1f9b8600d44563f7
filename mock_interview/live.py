"""The live screen of a voice session: what the interviewer says, the recording meter, and key presses.

Works on a terminal (single keys, a meter redrawn in place) and on pipes (lines in,
a progress line every few seconds out), so sessions can be scripted and tested.
"""

from __future__ import annotations

import math
import os
import select
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from mock_interview.analysis.transcript import Transcript, Word
from mock_interview.analyze import read_answer
from mock_interview.report.model import clock
from mock_interview.speech.capture import Meter, Recording, StopRules, record
from mock_interview.speech.transcribe import Engine
from mock_interview.speech.tts import Speaker

METER_WIDTH = 24
PLAIN_PROGRESS_EVERY_S = 5.0


def level_bar(dbfs: float, width: int = METER_WIDTH) -> str:
    """-60..0 dBFS as a bar of WIDTH cells."""
    fill = 0 if math.isinf(dbfs) else round(width * min(1.0, max(0.0, (dbfs + 60) / 60)))
    return "█" * fill + "·" * (width - fill)


class Screen:
    """One session's terminal: SPEAKER voices what is shown (None: text only)."""

    def __init__(self, console: Console, speaker: Speaker | None, device: int | str | None = None) -> None:
        self.console = console
        self.speaker = speaker
        self.device = device
        self.interactive = sys.stdin.isatty()
        self._stdin_open = True

    # ---- speaking -----------------------------------------------------------------------------

    def say(self, text: str, audio: Path | None = None, title: str | None = None) -> Path | None:
        """Show TEXT and, with a voice, speak it into AUDIO and play it. Returns the audio written, if any."""
        if title:
            self.console.print(Panel(Text(text), title=title, title_align="left", border_style="cyan"))
        else:
            self.console.print(Text(text))
        if self.speaker is None or audio is None:
            return None
        return self.speaker.say(text, audio)

    def note(self, text: str, style: str = "dim") -> None:
        self.console.print(Text(text, style=style))

    # ---- keys -----------------------------------------------------------------------------------

    def choose(self, prompt: str, keys: dict[str, str], default: str) -> str:
        """Ask for one of KEYS (key -> label); Enter gives DEFAULT. On a pipe, one line is one answer."""
        menu = "  ".join(f"[{k}] {label}" for k, label in keys.items())
        self.console.print(Text(f"{prompt}  {menu}", style="bold"))
        while True:
            key = self._read_key()
            if key is None or key in ("\r", "\n", ""):
                return default
            key = key.strip().lower()[:1]
            if key in keys:
                return key
            self.console.print(Text(f"Press one of: {', '.join(keys)}", style="yellow"))

    def _read_key(self) -> str | None:
        if not self._stdin_open:
            return None
        if self.interactive:
            # Keys typed while the prompt was being drawn count: flushing them (as click.getchar does) loses a
            # fast answer, which then waits forever for a key already pressed.
            with self._keys_unbuffered(flush_typed=False):
                fd = sys.stdin.fileno()
                key = os.read(fd, 1)
                if key == b"\x1b":
                    self._drop_escape_sequence(fd)
            if key in (b"", b"\x04"):  # Ctrl-D: no more answers from this keyboard
                self._stdin_open = False
                return None
            return key.decode("utf-8", errors="replace")
        line = sys.stdin.readline()
        if not line:
            self._stdin_open = False
            return None
        return line

    @staticmethod
    def _drop_escape_sequence(fd: int) -> None:
        """An arrow or function key arrives as ESC [ ... final-byte (or ESC O x); read exactly that, so a key typed
        after it is still there to be read."""

        def next_byte() -> bytes:
            return os.read(fd, 1) if select.select([fd], [], [], 0.05)[0] else b""

        introducer = next_byte()
        if introducer == b"O":
            next_byte()
        elif introducer == b"[":
            while (byte := next_byte()) and not 0x40 <= byte[0] <= 0x7E:  # parameters until the final byte
                pass

    @contextmanager
    def _keys_unbuffered(self, flush_typed: bool = True):
        """Single key presses without echo, so Enter does not scroll the meter away. FLUSH_TYPED drops keys typed
        before: a stray Enter from before a recording must not end it the moment it starts."""
        if not self.interactive:
            yield
            return
        import termios  # POSIX terminals only
        import tty

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        try:
            tty.setcbreak(fd, termios.TCSAFLUSH if flush_typed else termios.TCSANOW)
            yield
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)

    def _enter_pressed(self) -> bool:
        """Non-blocking: was Enter pressed since the last look? End of input on a pipe is not Enter."""
        if not self._stdin_open:
            return False
        ready, _, _ = select.select([sys.stdin], [], [], 0)
        if not ready:
            return False
        data = os.read(sys.stdin.fileno(), 1024)
        if not data:
            self._stdin_open = False
            return False
        return b"\n" in data or b"\r" in data

    # ---- recording ------------------------------------------------------------------------------

    def record(
        self,
        path: Path,
        rules: StopRules,
        target_s: float | None = None,
        on_target: Callable[[], None] | None = None,
        listener: Listener | None = None,
    ) -> Recording:
        """Record an answer with a live meter; TARGET_S adds a countdown and calls ON_TARGET once when reached.
        LISTENER hears the answer while it is given: its transcript so far and section estimate are shown."""
        state = {"target_passed": False, "last_plain": 0.0}

        def view(m: Meter) -> Text | Group:
            meter = meter_line(m)
            heard = listener.heard if listener is not None else None
            if heard is None:
                return meter
            section = section_line(heard, m.elapsed_s) if heard.section is not None else None
            if live is None:  # a pipe gets one line every few seconds: the estimate, not the words
                return meter.append_text(section) if section is not None else meter
            return Group(meter, *([section] if section is not None else []), transcript_tail(heard))

        def meter_line(m: Meter) -> Text:
            line = Text("● REC ", style="bold red")
            line.append(clock(m.elapsed_s), style="bold")
            if target_s is not None:
                left = target_s - m.elapsed_s
                line.append(
                    f"  {'left' if left >= 0 else 'over'} {abs(left):4.0f} s", style="green" if left >= 0 else "red"
                )
            line.append(f"  {level_bar(m.level_dbfs)} ", style="cyan" if m.speaking else "dim")
            if not m.heard_speech:
                line.append("waiting for you to speak", style="dim")
            elif m.silence_s >= 1.0:
                line.append(f"silence {m.silence_s:.0f}/{rules.silence_s:.0f} s", style="yellow")
            if m.over_budget:
                line.append(f"  past the {rules.budget_s:.0f} s budget: wrap up", style="bold yellow")
            return line

        def on_block(m: Meter) -> bool:
            if target_s is not None and not state["target_passed"] and m.elapsed_s >= target_s:
                state["target_passed"] = True
                if on_target is not None:
                    on_target()
            if live is not None:
                live.update(view(m))
            elif m.elapsed_s - state["last_plain"] >= PLAIN_PROGRESS_EVERY_S:
                state["last_plain"] = m.elapsed_s
                self.console.print(view(m))
            return self._enter_pressed()

        hint = f"Recording. Press Enter when you are done; {rules.silence_s:.0f} s of silence also ends the answer."
        self.note(hint)
        live = None
        with self._keys_unbuffered():
            on_audio, on_end = (listener.feed, listener.end) if listener is not None else (None, None)
            if self.console.is_terminal:
                with Live(Text(""), console=self.console, refresh_per_second=10, transient=False) as live:
                    result = record(path, rules, self.device, on_block, on_audio, on_end)
            else:
                result = record(path, rules, self.device, on_block, on_audio, on_end)
        how = {"enter": "Enter", "silence": "silence", "max-length": "the time limit", "no-speech": "no speech"}
        self.note(f"Recorded {clock(result.duration_s)} (ended by {how[result.stopped_by]}).")
        return result


@dataclass(frozen=True)
class HeardSoFar:
    """What the listener has made of the answer so far: its words and, for a STAR answer, the section it seems
    to be in (since when, and that section's target)."""

    words: tuple[Word, ...]
    section: str | None = None
    section_start_s: float = 0.0
    section_target_s: float = 0.0


class Listener(Protocol):
    """Hears an answer while it is recorded (session.LiveListener)."""

    heard: HeardSoFar | None

    def feed(self, block: bytes) -> None: ...

    def end(self) -> None: ...


TAIL_WORDS = 14


def section_line(heard: HeardSoFar, elapsed_s: float) -> Text:
    """The section the answer seems to be in, with its own countdown."""
    line = Text("  ")
    spent = max(0.0, elapsed_s - heard.section_start_s)
    left = heard.section_target_s - spent
    line.append(f"{heard.section.capitalize()} ", style="bold magenta")
    line.append(f"{clock(spent)} of {clock(heard.section_target_s)}", style="magenta")
    line.append(f"  {'left' if left >= 0 else 'over'} {abs(left):3.0f} s", style="green" if left >= 0 else "red")
    return line


def transcript_tail(heard: HeardSoFar) -> Text:
    words = [w.word for w in heard.words[-TAIL_WORDS:]]
    return Text(("… " if len(heard.words) > TAIL_WORDS else "") + " ".join(words), style="dim")


def read_with_progress(file: Path, transcriber: Engine | None, console: Console) -> Transcript:
    """The answer's transcript; audio shows a progress bar on CONSOLE while Whisper works."""
    if transcriber is None:
        return read_answer(file)
    with Progress(
        TextColumn("Transcribing"),
        BarColumn(),
        TextColumn("{task.fields[label]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("transcribe", total=None, label="")

        def update(done: float, total: float) -> None:
            progress.update(task, completed=done, total=total, label=f"{done:.0f}/{total:.0f} s of audio")

        return read_answer(file, transcriber, update)
