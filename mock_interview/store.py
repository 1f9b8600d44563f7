"""Session folders: one per session, readable only by the user, with a manifest rewritten after every step.

    <sessions>/2026-11-27_083012-mock-dive-deep-webhook/
        session.json                 what happened, turn by turn (mock-interview/session/v1)
        01-question.wav              the prompt as spoken
        01-answer.wav                the candidate's answer (01-answer.partial.wav while recording)
        01-answer.transcript.json    the words with their times
        report.json  report.md       the final report
        report.html                  the review page (`mock-interview review`), self-contained

A running session holds a lock on its folder. At the next start of the program, a
folder with a `.partial.wav` and no lock belongs to a killed process: `recover_sessions`
repairs the recording and marks the session recovered.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import BinaryIO

from mock_interview.errors import InputError

SESSIONS_ENV = "MOCK_INTERVIEW_SESSIONS"
SESSION_SCHEMA = "mock-interview/session/v1"
MANIFEST = "session.json"
LOCK = ".lock"
# Every start of the program, `--help` included, looks for recordings to recover: this module stays light
# (no numpy, yaml or pydantic), so capture.PARTIAL_SUFFIX is spelled out here (tests/test_startup.py checks).
PARTIAL_GLOB = "*/*.partial.wav"


def sessions_root(override: Path | None = None, create: bool = True) -> Path:
    """--sessions DIR, else MOCK_INTERVIEW_SESSIONS, else the platform's user data folder."""
    if override is None and os.environ.get(SESSIONS_ENV):
        override = Path(os.environ[SESSIONS_ENV])
    if override is None:
        import platformdirs

        override = platformdirs.user_data_path("mock-interview", appauthor=False) / "sessions"
    if not create:
        return override
    try:
        override.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise InputError(f"{override}: cannot create the sessions folder: {e.strerror}") from None
    if not override.is_dir():
        raise InputError(f"{override}: not a folder")
    return override


@dataclass
class Turn:
    n: int
    kind: str  # question, probe, section or quiz
    ref: str  # the scenario's id for what was asked: the scenario, a probe or a section
    prompt: str
    prompt_audio: str | None = None
    answer_audio: str | None = None
    transcript: str | None = None
    duration_s: float | None = None
    stopped_by: str | None = None  # enter, silence, max-length, no-speech, file or recovered
    result: dict = field(default_factory=dict)  # the mode's judgement of this turn


@dataclass
class Manifest:
    id: str
    mode: str
    scenario: str
    level: str
    started_at: str
    status: str = "in-progress"  # in-progress, complete, interrupted or recovered
    ended_at: str | None = None
    turns: list[Turn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    schema: str = SESSION_SCHEMA


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A file written whole or not at all (a temporary file renamed over PATH), readable by the user only
    whatever the umask: the commands that write outside a running session never set one."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a .tmp a crash left behind
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def write_private(path: Path, text: str) -> Path:
    with private_file(path) as f:
        f.write(text.encode("utf-8"))
    return path


def _write_json(path: Path, data: dict) -> None:
    write_private(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


class SessionFolder:
    """The folder of the running session; every file in it is created readable by the user only."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest
        self._lock_fd = _lock(path / LOCK)
        self.save()

    @classmethod
    def create(cls, root: Path, mode: str, scenario: str, level: str) -> SessionFolder:
        os.umask(0o077)  # recordings of a voice are private: nothing this process writes is group/world readable
        stamp = time.strftime("%Y-%m-%d_%H%M%S")
        for attempt in range(100):
            name = f"{stamp}-{mode}-{scenario}" + (f"-{attempt}" if attempt else "")
            try:
                (root / name).mkdir(mode=0o700)
            except FileExistsError:
                continue
            return cls(root / name, Manifest(name, mode, scenario, level, _now()))
        raise InputError(f"{root}: cannot create a session folder")

    def file(self, name: str) -> Path:
        return self.path / name

    def add_turn(self, kind: str, ref: str, prompt: str) -> Turn:
        turn = Turn(len(self.manifest.turns) + 1, kind, ref, prompt)
        self.manifest.turns.append(turn)
        self.save()
        return turn

    def turn_file(self, turn: Turn, what: str) -> Path:
        return self.file(f"{turn.n:02d}-{what}")

    def write_text(self, name: str, text: str) -> Path:
        return write_private(self.file(name), text)

    def write_json(self, name: str, data: dict) -> Path:
        path = self.file(name)
        _write_json(path, data)
        return path

    def save(self) -> None:
        _write_json(self.file(MANIFEST), asdict(self.manifest))

    def close(self, status: str) -> None:
        self.manifest.status = status
        self.manifest.ended_at = _now()
        self.save()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self.file(LOCK).unlink(missing_ok=True)


def _lock(path: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; recovery then relies on the session's status
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _is_locked(path: Path) -> bool:
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@dataclass(frozen=True)
class Recovered:
    session: Path
    audio: Path
    duration_s: float


def recover_sessions(root: Path) -> list[Recovered]:
    """Repair the recordings of sessions whose process died mid-answer and mark those sessions recovered."""
    recovered: list[Recovered] = []
    partials = sorted(root.glob(PARTIAL_GLOB))
    if not partials:
        return recovered
    from mock_interview.speech.capture import recover_partial

    for partial in partials:
        folder = partial.parent
        if _is_locked(folder / LOCK):
            continue  # a session running right now in another terminal
        audio, duration = recover_partial(partial)
        recovered.append(Recovered(folder, audio, duration))
        manifest_path = folder / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # the audio is safe; a manifest that cannot be read is left as it is
        for turn in manifest.get("turns", []):
            if turn.get("answer_audio") == audio.name:
                turn["duration_s"] = round(duration, 2)
                turn["stopped_by"] = "recovered"
        manifest["status"] = "recovered"
        manifest.setdefault("notes", []).append(
            f"{_now()}: the program stopped mid-answer; recovered {duration:.1f} s of audio into {audio.name}"
        )
        _write_json(manifest_path, manifest)
        (folder / LOCK).unlink(missing_ok=True)
    return recovered


# ---- past sessions --------------------------------------------------------------------------------


def session_folders(root: Path) -> list[Path]:
    """Every folder under ROOT that may hold a session, in name (and so start time) order."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_manifest(folder: Path) -> Manifest:
    """A session's manifest; a missing or damaged one is an InputError naming the file and the problem."""
    from mock_interview.datafiles import load_json

    path = folder / MANIFEST
    data = load_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a session manifest")
    try:
        turns = [Turn(**_known(Turn, t)) for t in data.pop("turns", [])]
        manifest = Manifest(**_known(Manifest, data), turns=turns)
    except (TypeError, AttributeError) as e:
        raise InputError(f"{path}: not a session manifest: {e}") from None
    if manifest.schema != SESSION_SCHEMA:
        raise InputError(f"{path}: schema {manifest.schema!r} is not {SESSION_SCHEMA!r}")
    return manifest


def _known(cls: type, data: dict) -> dict:
    """DATA without the fields CLS does not have: a manifest from a newer version still reads."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def find_session(root: Path, ref: str) -> Path:
    """The session folder REF names: its id (the folder name), the start of one, or its path."""
    folders = session_folders(root)
    as_path = Path(ref).expanduser()
    if as_path.is_dir() and as_path.resolve() in [f.resolve() for f in folders]:
        return as_path.resolve()
    exact = [f for f in folders if f.name == ref]
    found = exact or [f for f in folders if f.name.startswith(ref)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(f"no session {ref!r} in {root} (`mock-interview history` lists them)")
    names = ", ".join(f.name for f in found[:5]) + (", ..." if len(found) > 5 else "")
    raise InputError(f"{ref!r} matches {len(found)} sessions in {root}: {names}")


def _refuse_running(folder: Path) -> None:
    if _is_locked(folder / LOCK):
        raise InputError(f"{folder.name}: the session is still running")


def export_session(folder: Path, dest: Path) -> Path:
    """The whole session folder as one zip at DEST, its files under the session's id."""
    _refuse_running(folder)
    try:
        with private_file(dest) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.name != LOCK and not path.name.endswith(".tmp"):
                    z.write(path, f"{folder.name}/{path.relative_to(folder)}")
    except OSError as e:
        raise InputError(f"{dest}: cannot write: {e.strerror}") from None
    return dest


def delete_session(folder: Path) -> None:
    """Remove the session folder and everything in it: the recordings are gone from this disk's folder."""
    _refuse_running(folder)
    try:
        shutil.rmtree(folder)
    except OSError as e:
        raise InputError(f"{folder}: cannot delete: {e.strerror}") from None
