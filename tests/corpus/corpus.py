"""The labelled answer corpus: load the story files and the rendered audio's sidecars.

    from corpus import answers, load_rendered

    for answer in answers("dev"):          # every answer of every story in stories/
        print(answer.id, answer.flags, answer.text)
    for rendered in load_rendered():       # what tests/corpus/render.py wrote
        print(rendered.answer, rendered.voice, rendered.spans["action"])

A story file is validated strictly (the format is in README.md): every field present and
no unknown one, the five section ids in order, known variant / level / split / flags, and
the file named after its id. Any problem raises ValueError naming the file and the field.

Plain Python + PyYAML; the leadership principle names come from mock_interview.scenario.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from mock_interview.analysis.star import answer_units
from mock_interview.analysis.transcript import Sentence, Transcript, estimate_timing, transcript_from_json
from mock_interview.analyze import read_answer
from mock_interview.scenario import PRINCIPLES
from mock_interview.speech.audio import load_audio
from mock_interview.speech.transcribe import Engine, listen_again

HERE = Path(__file__).resolve().parent
STORIES_DIR = HERE / "stories"
CORPUS_ENV = "MOCK_INTERVIEW_CORPUS"
# Cached transcripts are named after the engine and settings that made them; change this when they change.
TRANSCRIPT_KEY = "faster-whisper-tiny.en-default"

SECTION_IDS: tuple[str, ...] = ("situation", "task", "action", "result", "reflection")
CONTENT_FLAGS: tuple[str, ...] = (
    "we-language", "no-metric", "vague-result", "handoff", "no-ownership-proof",
    "passive", "unverified", "generic-reflection", "hedging", "no-systemic-cause",
    "no-disagreement", "no-constraint", "blame", "no-customer",
)  # fmt: skip
VARIANTS: tuple[str, ...] = ("strong", "weak", "long-situation")
LEVELS: tuple[str, ...] = ("sde1", "sde2", "senior")
SPLITS: tuple[str, ...] = ("dev", "heldout")
# Flags the README restricts to some principles' questions, and to senior answers.
PRINCIPLE_FLAGS: dict[str, tuple[str, ...]] = {
    "no-ownership-proof": ("Ownership", "Dive Deep"),
    "no-disagreement": ("Have Backbone; Disagree and Commit",),
    "no-constraint": ("Frugality",),
    "blame": ("Earn Trust",),
    "no-customer": ("Customer Obsession",),
}
SENIOR_ONLY_FLAGS: tuple[str, ...] = ("no-systemic-cause",)

STORY_KEYS: tuple[str, ...] = ("id", "principle", "question", "split", "answers")
ANSWER_KEYS: tuple[str, ...] = ("variant", "level", "sections", "flags")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Answer:
    """One spoken answer of a story: its words per section and the content flags that must fire."""

    story: str
    principle: str
    question: str
    split: str
    variant: str
    level: str
    sections: dict[str, str]  # every section id -> its words, whitespace collapsed; "" = skipped
    flags: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.story}--{self.variant}"

    @property
    def text(self) -> str:
        return " ".join(t for t in (self.sections[s] for s in SECTION_IDS) if t)


@dataclass(frozen=True)
class Story:
    id: str
    principle: str
    question: str
    split: str
    answers: tuple[Answer, ...]
    path: Path


@dataclass(frozen=True)
class Span:
    """The true extent of a section's speech in a rendered file, in seconds (end exclusive)."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class Gap:
    """A pause between two sections: end of one section's speech to the start of the next."""

    after: str
    before: str
    kind: str  # natural, long or none (almost none)
    gap_s: float


@dataclass(frozen=True)
class Rendered:
    """A rendered answer's sidecar (``<answer-id>.json`` next to ``<answer-id>.flac``)."""

    audio: Path
    answer: str
    story: str
    split: str
    variant: str
    level: str
    flags: tuple[str, ...]
    voice: str
    pace: str
    gaps: tuple[Gap, ...]
    spans: dict[str, Span | None]  # every section id -> its true speech span; None = the section is skipped
    texts: dict[str, str]
    duration_s: float
    sidecar: Path

    @property
    def text(self) -> str:
        return " ".join(t for t in (self.texts[s] for s in SECTION_IDS) if t)

    def section_at(self, t: float) -> str:
        return section_at(self.spans, t)


def section_at(spans: dict[str, Span | None], t: float) -> str:
    """The section being spoken at time T; in a pause, the nearer of the two sections around it."""
    best, distance = SECTION_IDS[0], float("inf")
    for section in SECTION_IDS:
        span = spans[section]
        if span is None:
            continue
        d = 0.0 if span.start_s <= t <= span.end_s else min(abs(t - span.start_s), abs(t - span.end_s))
        if d < distance:
            best, distance = section, d
    return best


def true_sentences(sections: dict[str, str]) -> tuple[Transcript, list[Sentence], list[str]]:
    """An answer's text timed at a steady pace, cut into the analysis's sentences, and each sentence's true section
    (that of its first word). SECTIONS: every section id -> its words."""
    transcript = estimate_timing(" ".join(t for t in (sections[s] for s in SECTION_IDS) if t))
    sentences = answer_units(transcript.words)
    owner = [s for s in SECTION_IDS for _ in sections[s].split()]
    return transcript, sentences, [owner[s.first] for s in sentences]


def cached_transcript(audio: Path, engine: Engine | None, cache_dir: Path | None = None) -> Transcript:
    """The pipeline's transcript of AUDIO (read_answer), from the cache (CACHE_DIR, or transcripts/ beside the
    audio) while the audio is unchanged.

    ENGINE may be None when every transcript is known to be cached. The stages after Whisper that read the
    sound (listen_again) run anew each time, so that a change to them is measured without transcribing again."""
    digest = hashlib.sha256(audio.read_bytes()).hexdigest()[:16]
    cache = (cache_dir or audio.parent / "transcripts") / f"{audio.stem}.{TRANSCRIPT_KEY}.{digest}.json"
    if cache.is_file():
        return listen_again(transcript_from_json(json.loads(cache.read_text()), audio), load_audio(audio))
    if engine is None:
        raise ValueError(f"{audio}: no cached transcript and no engine to make one")
    transcript = read_answer(audio, engine)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(transcript.to_dict()))
    return transcript


def corpus_dir() -> Path:
    """Where render.py writes the audio by default: $MOCK_INTERVIEW_CORPUS or ~/.cache/mock-interview/corpus."""
    env = os.environ.get(CORPUS_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mock-interview" / "corpus"


# --- stories -------------------------------------------------------------------------------------


def _fail(path: Path, field: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {field}: {problem}")


def _keys(path: Path, field: str, data: object, keys: Iterable[str]) -> dict:
    keys = tuple(keys)
    if not isinstance(data, dict):
        raise _fail(path, field, f"expected a mapping with {', '.join(keys)}; got {type(data).__name__}")
    for key in keys:
        if key not in data:
            raise _fail(path, f"{field}.{key}" if field != "(top level)" else key, "missing")
    for key in data:
        if key not in keys:
            where = f"{field}.{key}" if field != "(top level)" else str(key)
            raise _fail(path, where, f"unknown field (known: {', '.join(keys)})")
    return data


def _choice(path: Path, field: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _fail(path, field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _text(path: Path, field: str, value: object, allow_empty: bool) -> str:
    if not isinstance(value, str):
        raise _fail(path, field, f'expected text (use "" for a skipped section); got {type(value).__name__}')
    text = " ".join(value.split())
    if not text and not allow_empty:
        raise _fail(path, field, "empty")
    return text


def parse_story(data: object, path: Path) -> Story:
    """A story from the yaml data of ``path``; ValueError naming the file and field on any problem."""
    doc = _keys(path, "(top level)", data, STORY_KEYS)
    story_id = doc["id"]
    if not isinstance(story_id, str) or not ID_RE.match(story_id):
        raise _fail(path, "id", f"{story_id!r} is not lower-case words joined by hyphens")
    if path.stem != story_id:
        raise _fail(path, "id", f"{story_id!r} does not match the file name {path.name!r} (want {story_id}.yaml)")
    if doc["principle"] not in PRINCIPLES:
        raise _fail(path, "principle", f"{doc['principle']!r} is not one of {'; '.join(PRINCIPLES)}")
    principle: str = doc["principle"]
    question = _text(path, "question", doc["question"], allow_empty=False)
    split = _choice(path, "split", doc["split"], SPLITS)
    raw_answers = doc["answers"]
    if not isinstance(raw_answers, list) or not raw_answers:
        raise _fail(path, "answers", "expected a non-empty list of answers")
    answers: list[Answer] = []
    for i, raw in enumerate(raw_answers):
        where = f"answers[{i}]"
        item = _keys(path, where, raw, ANSWER_KEYS)
        variant = _choice(path, f"{where}.variant", item["variant"], VARIANTS)
        if any(a.variant == variant for a in answers):
            raise _fail(path, f"{where}.variant", f"a second {variant!r} answer (variants are unique in a story)")
        level = _choice(path, f"{where}.level", item["level"], LEVELS)
        sections = item["sections"]
        if not isinstance(sections, dict) or tuple(sections) != SECTION_IDS:
            got = list(sections) if isinstance(sections, dict) else type(sections).__name__
            raise _fail(
                path, f"{where}.sections", f"expected exactly {', '.join(SECTION_IDS)} in that order; got {got}"
            )
        texts = {s: _text(path, f"{where}.sections.{s}", sections[s], allow_empty=True) for s in SECTION_IDS}
        if not any(texts.values()):
            raise _fail(path, f"{where}.sections", "every section is empty")
        flags = item["flags"]
        if not isinstance(flags, list):
            raise _fail(path, f"{where}.flags", f"expected a list of flag ids; got {type(flags).__name__}")
        for flag in flags:
            _choice(path, f"{where}.flags", flag, CONTENT_FLAGS)
            if flag in SENIOR_ONLY_FLAGS and level != "senior":
                raise _fail(path, f"{where}.flags", f"{flag} is for senior answers only (level is {level})")
            if principle not in PRINCIPLE_FLAGS.get(flag, (principle,)):
                raise _fail(
                    path, f"{where}.flags", f"{flag} is for {' and '.join(PRINCIPLE_FLAGS[flag])} questions only"
                )
        if len(set(flags)) != len(flags):
            raise _fail(path, f"{where}.flags", "a flag is listed twice")
        answers.append(Answer(story_id, principle, question, split, variant, level, texts, tuple(flags)))
    return Story(story_id, principle, question, split, tuple(answers), path)


def load_story(path: Path) -> Story:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _fail(path, "(file)", f"cannot read it as yaml: {exc}") from exc
    return parse_story(data, path)


def load_stories(folder: Path | str | None = None) -> list[Story]:
    """Every story in ``folder`` (default: stories/ next to this file), sorted by id."""
    folder = Path(folder) if folder is not None else STORIES_DIR
    if not folder.is_dir():
        raise ValueError(f"{folder}: (folder): no such folder")
    for path in sorted(folder.glob("*.yml")):
        raise _fail(path, "(file)", "story files end in .yaml")
    return [load_story(p) for p in sorted(folder.glob("*.yaml"))]


def answers(split: str | None = None, folder: Path | str | None = None) -> list[Answer]:
    """Every answer of every story (of one split if given), in story order then file order."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (known: {', '.join(SPLITS)})")
    return [a for s in load_stories(folder) for a in s.answers if split is None or a.split == split]


# --- rendered audio -------------------------------------------------------------------------------


def read_rendered(sidecar: Path) -> Rendered:
    """One sidecar written by render.py; ValueError naming the file on a malformed one."""
    try:
        d = json.loads(sidecar.read_text(encoding="utf-8"))
        by_id = {s["id"]: s for s in d["sections"]}
        if tuple(by_id) != SECTION_IDS:
            raise ValueError(f"sections are {list(by_id)}, not {list(SECTION_IDS)}")
        spans = {
            s: None if by_id[s]["start_s"] is None else Span(float(by_id[s]["start_s"]), float(by_id[s]["end_s"]))
            for s in SECTION_IDS
        }
        return Rendered(
            audio=sidecar.parent / d["audio"],
            answer=d["answer"],
            story=d["story"],
            split=d["split"],
            variant=d["variant"],
            level=d["level"],
            flags=tuple(d["flags"]),
            voice=d["voice"],
            pace=d["pace"],
            gaps=tuple(Gap(g["after"], g["before"], g["kind"], float(g["gap_s"])) for g in d["gaps"]),
            spans=spans,
            texts={s: by_id[s]["text"] for s in SECTION_IDS},
            duration_s=float(d["duration_s"]),
            sidecar=sidecar,
        )
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{sidecar}: not a corpus sidecar: {exc!r}") from exc


def load_rendered(folder: Path | str | None = None) -> list[Rendered]:
    """Every rendered answer in ``folder`` (default: corpus_dir()), sorted by answer id."""
    folder = Path(folder) if folder is not None else corpus_dir()
    return sorted((read_rendered(p) for p in folder.glob("*.json")), key=lambda r: r.answer)
