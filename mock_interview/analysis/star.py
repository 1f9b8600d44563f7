"""STAR segmentation: which sentences are the Situation, Task, Action, Result and Reflection.

Keyword spotting alone fails on real answers, so every sentence is scored for
every section from several cues together (discourse markers, person and tense,
numbers, the scenario's own signal phrases and strong examples, and where in
the answer it falls against the targets), and an ordered dynamic programme picks
the best labelling in which sections only move forward. A long pause before a
sentence makes a section change there cheaper. Cues, grammar and signals are
evidence; a section with none is reported missing rather than filled with a
neighbour's sentence, and skipping one still costs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from mock_interview.analysis.transcript import Sentence, normalize, normalized_text
from mock_interview.scenario import SECTION_IDS, Scenario

CUES_FILE = Path(__file__).parent.parent / "rules" / "star_cues.yaml"

# Weights of the score terms. Tuned on the development fixtures; see benchmarks/.
W_CUE = 1.0
W_SIGNAL = 1.5
W_SIMILARITY = 2.0
W_POSITION = 3.0
W_PAUSE = 1.0
SKIP_PENALTY = 1.0
# A sentence with no cue, grammar or signal for a section fits it less: a section needs evidence to exist.
NO_EVIDENCE = 1.0
# Signal phrases this long may be said with one word different.
SIGNAL_SLACK_FROM = 4

_PAST_IRREGULAR = {
    "brought", "built", "found", "made", "led", "ran", "sent", "told", "took", "wrote", "got", "went",
    "saw", "met", "spoke", "dug", "set", "began", "chose", "drove", "gave", "kept", "knew", "put",
    "thought", "understood", "caught", "rebuilt", "rewrote", "held", "paid", "read", "sat", "stood",
}  # fmt: skip
_STOPWORDS = set(
    "a an the and or but if so of to in on at by for from with into onto about as is was were be been being are "
    "i me my we our us you your he she it its they them their this that these those there here not no nor "
    "had has have do did does done then than too very can could would should will just also which who whom "
    "what when where why how all any each some more most such only own same other after before while up out "
    "over under again once".split()
)


@dataclass(frozen=True)
class Cue:
    pattern: re.Pattern[str]  # an opening cue is anchored to the start of the sentence
    weight: float


@dataclass(frozen=True)
class SectionSpan:
    id: str
    first_sentence: int | None  # None when the section is missing
    last_sentence: int | None


@lru_cache(maxsize=1)
def load_cues() -> dict[str, tuple[Cue, ...]]:
    data = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    cues: dict[str, tuple[Cue, ...]] = {}
    for section in SECTION_IDS:
        entries = []
        for where in ("opening", "anywhere"):
            for item in data.get(section, {}).get(where, []):
                anchor = "^" if where == "opening" else r"(?<![\w'])"
                pattern = re.compile(anchor + "(?:" + item["pattern"] + r")(?![\w'])")
                entries.append(Cue(pattern, float(item["weight"])))
        cues[section] = tuple(entries)
    return cues


def stem(word: str) -> str:
    word = normalize(word)
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content_stems(text: str) -> list[str]:
    return [stem(w) for w in text.split() if normalize(w) and normalize(w) not in _STOPWORDS]


def phrase_stems(text: str) -> set[str]:
    """Every word of a phrase, stemmed; small words stay, since 'not my team' hangs on 'not'."""
    return {stem(w) for w in text.split() if normalize(w) and normalize(w) not in ("a", "an", "the")}


def signal_present(signal: set[str], sentence: set[str]) -> bool:
    """A signal phrase is said when one sentence holds its words in any order ('recovered $8,000 per week');
    a phrase of four words or more may miss one, as speech rarely repeats a page word for word."""
    missing = len(signal - sentence)
    return bool(signal) and missing <= (1 if len(signal) >= SIGNAL_SLACK_FROM else 0)


def signals_said(scenario: Scenario, section_id: str, sentences: tuple[Sentence, ...]) -> list[str]:
    """The scenario's signal phrases for a section that the candidate said in that section."""
    said = [phrase_stems(_sentence_text(s)) for s in sentences]
    signals = scenario.section(section_id).signals
    return [sig for sig in signals if any(signal_present(phrase_stems(sig), words) for words in said)]


def _sentence_text(sentence: Sentence) -> str:
    return normalized_text(sentence.words)[0]


def _cue_scores(text: str, cues: dict[str, tuple[Cue, ...]]) -> list[float]:
    return [sum(c.weight for c in cues[sec] if c.pattern.search(text)) for sec in SECTION_IDS]


def _grammar_scores(text: str) -> list[float]:
    """Person and tense: first-person past verbs tell an Action, numbers a Result, modals a Reflection."""
    tokens = text.split()

    def past_after(subject: str) -> int:
        return sum(1 for a, b in zip(tokens, tokens[1:]) if a == subject and (b.endswith("ed") or b in _PAST_IRREGULAR))

    first_person_past = past_after("i")
    # An Action told as "we" is still the Action; the we-language rule judges it.
    first_plural_past = past_after("we")
    numbers = sum(1 for t in tokens if re.search(r"\d", t))
    modal = len(re.findall(r"\b(would|should|could|will|going forward|next time)\b", text))
    ongoing = len(re.findall(r"\b(was|were) \w+ing\b", text))
    return [
        0.4 * min(ongoing, 2),
        0.0,
        0.5 * min(first_person_past, 3) + 0.3 * min(first_plural_past, 2),
        0.6 * min(numbers, 3),
        0.5 * min(modal, 2),
    ]


class _Vocabulary:
    """Each section's words in the scenario (signals and strong example), weighted by how distinctive they are."""

    def __init__(self, scenario: Scenario, level: str):
        texts = []
        for section in scenario.sections:
            example = section.strong_example or ""
            if section.id == "reflection":
                example += " " + (scenario.levels[level].example_reflection or "")
            texts.append(set(content_stems(example + " " + " ".join(section.signals))))
        self.sections = texts
        counts: dict[str, int] = {}
        for words in texts:
            for w in words:
                counts[w] = counts.get(w, 0) + 1
        self.idf = {w: math.log(1 + len(texts) / c) for w, c in counts.items()}
        self.signals = [[phrase_stems(sig) for sig in s.signals] for s in scenario.sections]

    def similarity(self, stems: list[str]) -> list[float]:
        if not stems:
            return [0.0] * len(self.sections)
        weights = [sum(self.idf[w] for w in stems if w in vocab) for vocab in self.sections]
        total = sum(weights) or 1.0
        # Share of the sentence's scenario vocabulary that belongs to each section.
        coverage = min(1.0, sum(1 for w in stems if w in self.idf) / len(stems) * 2)
        return [coverage * w / total for w in weights]

    def signal_hits(self, text: str) -> list[float]:
        present = phrase_stems(text)
        return [min(2.0, float(sum(1 for sig in signals if signal_present(sig, present)))) for signals in self.signals]


def _position_scores(fraction: float, spans: list[tuple[float, float]]) -> list[float]:
    scores = []
    for lo, hi in spans:
        distance = 0.0 if lo <= fraction <= hi else min(abs(fraction - lo), abs(fraction - hi))
        scores.append(-distance)
    return scores


def emission_scores(sentences: list[Sentence], scenario: Scenario, level: str) -> list[list[float]]:
    cues = load_cues()
    vocab = _Vocabulary(scenario, level)
    targets = [scenario.target_s(s, level) for s in SECTION_IDS]
    total_target = sum(targets)
    spans, acc = [], 0.0
    for t in targets:
        spans.append((acc / total_target, (acc + t) / total_target))
        acc += t
    t0, t1 = sentences[0].start, sentences[-1].end
    length = max(t1 - t0, 1e-6)
    scores = []
    for sentence in sentences:
        text = _sentence_text(sentence)
        stems = content_stems(text)
        middle = ((sentence.start + sentence.end) / 2 - t0) / length
        parts = zip(
            _cue_scores(text, cues),
            _grammar_scores(text),
            vocab.signal_hits(text),
            vocab.similarity(stems),
            _position_scores(middle, spans),
        )
        row = []
        for c, g, sig, sim, pos in parts:
            # Cues, grammar and signals are evidence; similarity and position only weigh it.
            evidence = W_CUE * c + g + W_SIGNAL * sig
            row.append(evidence + W_SIMILARITY * sim + W_POSITION * pos - (NO_EVIDENCE if evidence <= 0 else 0.0))
        scores.append(row)
    return scores


def segment(sentences: list[Sentence], scenario: Scenario, level: str) -> list[SectionSpan]:
    """Label each sentence with a section so that sections only move forward; maximise the total score."""
    n, k = len(sentences), len(SECTION_IDS)
    if n == 0:
        return [SectionSpan(sec, None, None) for sec in SECTION_IDS]
    emit = emission_scores(sentences, scenario, level)
    pauses = [s.pause_before_s for s in sentences[1:]]
    typical_pause = sorted(pauses)[len(pauses) // 2] if pauses else 0.0
    neg = float("-inf")
    best = [[neg] * k for _ in range(n)]
    back = [[0] * k for _ in range(n)]
    for j in range(k):
        best[0][j] = emit[0][j] - SKIP_PENALTY * j
    for i in range(1, n):
        # A pause longer than this answer's usual one is where speakers change section.
        bonus = W_PAUSE * min(1.0, max(0.0, sentences[i].pause_before_s - typical_pause))
        for j in range(k):
            stay = best[i - 1][j]
            move, move_from = neg, j
            for prev in range(j):
                candidate = best[i - 1][prev] + bonus - SKIP_PENALTY * (j - prev - 1)
                if candidate > move:
                    move, move_from = candidate, prev
            if stay >= move:
                best[i][j], back[i][j] = stay + emit[i][j], j
            else:
                best[i][j], back[i][j] = move + emit[i][j], move_from
    final = [best[n - 1][j] - SKIP_PENALTY * (k - 1 - j) for j in range(k)]
    state = max(range(k), key=lambda j: final[j])
    labels = [0] * n
    for i in range(n - 1, -1, -1):
        labels[i] = state
        state = back[i][state]
    spans = []
    for j, section in enumerate(SECTION_IDS):
        members = [i for i, label in enumerate(labels) if label == j]
        spans.append(SectionSpan(section, members[0], members[-1]) if members else SectionSpan(section, None, None))
    return spans
