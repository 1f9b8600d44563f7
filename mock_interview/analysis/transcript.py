"""Timed transcripts: words with times, sentences, and reading transcripts from files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mock_interview.datafiles import read_text
from mock_interview.errors import InputError

# A plain text has no times; they are estimated at this pace and the report says so.
ESTIMATED_WPM = 150.0
ESTIMATED_SENTENCE_PAUSE_S = 0.6
# A gap this long between two words ends a sentence even without punctuation.
SENTENCE_GAP_S = 1.2
# Whisper runs sentences together with commas when the speaker barely pauses; a comma followed by this much
# silence ends a unit too, so that a section change inside one of Whisper's sentences can be found.
CLAUSE_GAP_S = 0.6


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Filler:
    """A filler the candidate said: one Whisper kept as a word, or a filled pause heard in the sound."""

    word: str  # "um", "uh", "you know"...
    start: float
    end: float
    heard: str = "transcript"  # "transcript" (a word Whisper kept) or "acoustic" (found in the sound)


@dataclass(frozen=True)
class Transcript:
    words: tuple[Word, ...]
    duration_s: float
    timing: str = "measured"  # "measured" from audio, or "estimated" from a plain text
    source: str = ""
    # Filled pauses heard in the audio that Whisper left out of the words.
    fillers: tuple[Filler, ...] = ()

    @property
    def text(self) -> str:
        return join_words(self.words)

    def to_dict(self) -> dict:
        """The report contract's transcript object; `transcript_from_json` reads it back."""
        return {
            "text": self.text,
            "duration_s": round(self.duration_s, 2),
            "words": [
                {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability} for w in self.words
            ],
            "fillers": [{"word": f.word, "start": f.start, "end": f.end} for f in self.fillers],
        }

    def shifted(self, offset_s: float) -> tuple[Word, ...]:
        """The words with OFFSET_S added to their times: a clip placed later in a longer recording."""
        return tuple(
            Word(w.word, round(w.start + offset_s, 3), round(w.end + offset_s, 3), w.probability) for w in self.words
        )


@dataclass(frozen=True)
class Sentence:
    """A run of words, the unit STAR segmentation assigns to a section."""

    index: int
    first: int  # index of the first word in the transcript
    words: tuple[Word, ...] = field(repr=False)
    pause_before_s: float

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


@lru_cache(maxsize=65536)  # every rule reads every sentence: the same few hundred words, normalized again and again
def normalize(token: str) -> str:
    """Lower case, apostrophes unified, surrounding punctuation dropped: 'Didn’t,' -> "didn't"."""
    token = token.strip().lower().replace("’", "'").replace("‘", "'")
    return token.strip('.,!?;:"()[]{}…—–-')


def normalized_text(words: tuple[Word, ...]) -> tuple[str, list[int]]:
    """Normalized words joined by spaces, and for every character the index of the word it came from."""
    parts: list[str] = []
    owner: list[int] = []
    for i, w in enumerate(words):
        norm = normalize(w.word)
        if not norm:
            continue
        if parts:
            parts.append(" ")
            owner.append(i)
        parts.append(norm)
        owner.extend([i] * len(norm))
    return "".join(parts), owner


def join_words(words: tuple[Word, ...] | list[Word]) -> str:
    return " ".join(w.word.strip() for w in words).strip()


def split_sentences(words: tuple[Word, ...]) -> list[Sentence]:
    """Sentences end at . ? ! or at a long silence (Whisper punctuates, plain speech may not), and at a comma
    the speaker paused after."""
    sentences: list[Sentence] = []
    start = 0
    for i, word in enumerate(words):
        last = i == len(words) - 1
        text = word.word.strip()
        gap_after = (words[i + 1].start - word.end) if not last else 0.0
        ends = text.endswith((".", "?", "!")) or (text.endswith((",", ";", ":")) and gap_after >= CLAUSE_GAP_S)
        if last or ends or gap_after >= SENTENCE_GAP_S:
            pause = words[start].start - words[start - 1].end if start > 0 else words[start].start
            sentences.append(Sentence(len(sentences), start, words[start : i + 1], max(0.0, pause)))
            start = i + 1
    return sentences


# A clause ends after , ; : or a dash, or before a word that joins two clauses; not at a comma before the
# measure of what the clause said ("runs got faster, from six hours to four", "it dropped, by a third").
_CLAUSE_END = (",", ";", ":", "—", "–")
_CLAUSE_JOINERS = {"and", "but", "so", "because", "which", "while", "although", "though", "whereas"}
_MEASURE_OPENERS = {"from", "by"}


def split_clauses(sentence: Sentence) -> list[Sentence]:
    """The clauses of a sentence, so that a number in one clause does not vouch for a claim in another."""
    clauses: list[Sentence] = []
    start = 0
    words = sentence.words
    for i in range(1, len(words) + 1):
        if i == len(words):
            ends = True
        else:
            after = normalize(words[i].word)
            at_mark = words[i - 1].word.endswith(_CLAUSE_END)
            ends = after in _CLAUSE_JOINERS or (at_mark and after not in _MEASURE_OPENERS)
        if ends and i > start:
            clauses.append(Sentence(sentence.index, sentence.first + start, words[start:i], 0.0))
            start = i
    return clauses


_NUMBER_PIECE = re.compile(r"^([.,]\d|%|[.,]?\d*%)")


def merge_number_pieces(words: tuple[Word, ...]) -> tuple[Word, ...]:
    """Whisper splits '0.3%' into '0', '.3', '%': join pieces that continue a number into one word."""
    merged: list[Word] = []
    for w in words:
        prev = merged[-1] if merged else None
        if prev and re.search(r"\d$", prev.word) and _NUMBER_PIECE.match(w.word):
            probability = min(prev.probability, w.probability)
            merged[-1] = Word(prev.word + w.word, prev.start, w.end, probability)
        else:
            merged.append(w)
    return tuple(merged)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def estimate_timing(text: str, wpm: float = ESTIMATED_WPM, source: str = "") -> Transcript:
    """Give each word of a plain text a time, as if spoken at WPM with a short pause after sentences.

    Longer words take longer; the times are then scaled so that the whole answer runs at WPM.
    """
    raw: list[tuple[str, float, float]] = []
    t = 0.0
    for sentence in _SENTENCE_END.split(text.strip()):
        for token in sentence.split():
            length = max(1, _syllables(token))
            raw.append((token, t, t + length * 0.9))
            t += length
        t += ESTIMATED_SENTENCE_PAUSE_S * 3  # in syllables, before scaling
    if not raw:
        raise InputError(f"{source or 'text'}: the transcript is empty")
    scale = (len(raw) / wpm * 60) / raw[-1][2]
    words = tuple(Word(token, round(a * scale, 3), round(b * scale, 3)) for token, a, b in raw)
    return Transcript(words, duration_s=words[-1].end, timing="estimated", source=source)


def _syllables(token: str) -> int:
    token = normalize(token)
    if any(ch.isdigit() for ch in token):
        return max(1, len(re.sub(r"\D", "", token)))  # digits are read out one by one, roughly
    groups = re.findall(r"[aeiouy]+", token)
    count = len(groups) - (1 if token.endswith("e") and len(groups) > 1 else 0)
    return max(1, count)


def transcript_from_json(data: object, path: Path) -> Transcript:
    """The report contract's transcript object, or a whole v1 report that holds one."""
    if isinstance(data, dict) and isinstance(data.get("transcript"), dict):
        data = data["transcript"]
    if not isinstance(data, dict) or not isinstance(data.get("words"), list):
        raise InputError(f"{path}: words: expected a transcript object with a 'words' list")
    words: list[Word] = []
    for i, item in enumerate(data["words"]):
        try:
            word = Word(
                str(item["word"]), float(item["start"]), float(item["end"]), float(item.get("probability", 1.0))
            )
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}: words[{i}]: needs 'word', 'start' and 'end' (seconds)") from None
        if word.end < word.start or (words and word.start < words[-1].start):
            raise InputError(f"{path}: words[{i}]: times must not run backwards")
        words.append(word)
    if not words:
        raise InputError(f"{path}: the transcript is empty")
    fillers: list[Filler] = []
    for i, item in enumerate(data.get("fillers") or []):
        try:
            fillers.append(Filler(str(item["word"]), float(item["start"]), float(item["end"]), "acoustic"))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}: fillers[{i}]: needs 'word', 'start' and 'end' (seconds)") from None
    duration = float(data.get("duration_s") or words[-1].end)
    return Transcript(tuple(words), duration_s=duration, source=str(path), fillers=tuple(fillers))


def read_transcript_file(path: Path) -> Transcript:
    text = read_text(path)
    if not text.strip():
        raise InputError(f"{path}: the transcript is empty")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}: line {err.lineno}: not valid JSON: {err.msg}") from None
        return transcript_from_json(data, path)
    return estimate_timing(text, source=str(path))
