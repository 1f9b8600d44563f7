"""STAR segmentation: which sentences are the Situation, Task, Action, Result and Reflection.

Keyword spotting alone fails on real answers, so every sentence is described for
every section by several cues together (discourse markers at its start and
anywhere, person and tense, numbers, the scenario's own signal phrases and strong
examples, what it means, as a learnt model's reading of its sentence embedding
and its neighbours', and where in the answer it falls against the targets), each section
weighs them with its own weights, and an ordered dynamic programme picks the best
labelling in which sections only move forward. A pause longer than the speaker's
usual one makes a section change there cheaper; skipping a section costs.

The weights are data (rules/star_weights.yaml), learnt by an averaged structured
perceptron on the development part of the labelled corpus only
(tests/corpus/train_segmenter.py); the held-out part measures them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from mock_interview.analysis.embed import DIMENSIONS, embeddings, logistic
from mock_interview.analysis.transcript import (
    Sentence,
    Word,
    join_words,
    normalize,
    normalized_text,
    split_sentences,
)
from mock_interview.scenario import SECTION_IDS, Scenario

CUES_FILE = Path(__file__).parent.parent / "rules" / "star_cues.yaml"
WEIGHTS_FILE = Path(__file__).parent.parent / "rules" / "star_weights.yaml"

# A unit cut out of a sentence at a section marker has at least this many words on either side.
MIN_UNIT_WORDS = 3
# A run-on sentence this long (a speaker who barely pauses, transcribed without full stops) is also cut at
# its commas, into pieces of at least LONG_PIECE_WORDS words, so that one label cannot swallow two sections.
LONG_UNIT_WORDS = 30
LONG_PIECE_WORDS = 8
# Signal phrases this long may be said with one word different.
SIGNAL_SLACK_FROM = 4

_PAST_IRREGULAR = {
    "brought", "built", "found", "made", "led", "ran", "sent", "told", "took", "wrote", "got", "went",
    "saw", "met", "spoke", "dug", "set", "began", "chose", "drove", "gave", "kept", "knew", "put",
    "thought", "understood", "caught", "rebuilt", "rewrote", "held", "paid", "read", "sat", "stood",
}  # fmt: skip
# Whisper writes small counts as words: "eight people", "two weeks".
_NUMBER_WORDS = set(
    "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred "
    "thousand million percent half twice double".split()
)
_FIRST_PERSON = {"i", "i'd", "i'm", "i've", "i'll", "me", "my", "myself", "mine"}
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
    opening: bool


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
                entries.append(Cue(pattern, float(item["weight"]), where == "opening"))
        cues[section] = tuple(entries)
    return cues


def answer_units(words: tuple[Word, ...]) -> list[Sentence]:
    """The units segmentation labels: sentences, each also cut at a comma that a section's opening marker
    follows, and a run-on sentence at its commas. Speakers who barely pause between sections get one long
    sentence from Whisper ("...three hours, I learned that..."); the marker says where the next section
    starts, and where there is none, shorter pieces can still take different labels."""
    openings = [c.pattern for cues in load_cues().values() for c in cues if c.opening]
    units: list[Sentence] = []
    for sentence in split_sentences(words):
        n = len(sentence.words)
        start = 0
        for i in range(MIN_UNIT_WORDS, n - MIN_UNIT_WORDS + 1):
            if i - start < MIN_UNIT_WORDS or not sentence.words[i - 1].word.endswith((",", ";", ":")):
                continue
            rest = normalized_text(sentence.words[i:])[0]
            run_on = n > LONG_UNIT_WORDS and i - start >= LONG_PIECE_WORDS and n - i >= LONG_PIECE_WORDS
            if run_on or any(p.search(rest) for p in openings):
                units.append(_unit(sentence, start, i, len(units)))
                start = i
        units.append(_unit(sentence, start, n, len(units)))
    return units


def _unit(sentence: Sentence, first: int, last: int, index: int) -> Sentence:
    words = sentence.words[first:last]
    pause = sentence.pause_before_s if first == 0 else max(0.0, words[0].start - sentence.words[first - 1].end)
    return Sentence(index, sentence.first + first, words, pause)


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


def _cue_scores(text: str, cues: dict[str, tuple[Cue, ...]]) -> tuple[list[float], list[float]]:
    """Per section, the weight of the opening cues and of the anywhere cues the sentence holds."""
    found = [[c for c in cues[sec] if c.pattern.search(text)] for sec in SECTION_IDS]
    return (
        [sum(c.weight for c in hits if c.opening) for hits in found],
        [sum(c.weight for c in hits if not c.opening) for hits in found],
    )


def _grammar_features(text: str) -> tuple[float, ...]:
    """Person, tense and numbers: first-person past verbs tell an Action, numbers a Result, modals and the present
    a Reflection, a state of things in the past told about someone other than me the Situation."""
    tokens = text.split()
    words = set(tokens)

    def past_after(subject: str) -> int:
        return sum(1 for a, b in zip(tokens, tokens[1:]) if a == subject and (b.endswith("ed") or b in _PAST_IRREGULAR))

    return (
        min(past_after("i"), 3),
        # An Action told as "we" is still the Action; the we-language rule judges it.
        min(past_after("we"), 2),
        min(sum(1 for t in tokens if re.search(r"\d", t) or t in _NUMBER_WORDS), 3),
        min(len(re.findall(r"\b(would|should|could|will|going forward|next time)\b", text)), 2),
        min(len(re.findall(r"\b(was|were) \w+ing\b", text)), 2),
        float(bool(words & _FIRST_PERSON)),
        float(bool(words & {"was", "were", "had", "wasn't", "weren't"})),
        float(bool(words & {"is", "are", "isn't", "aren't", "it's", "that's", "there's"})),
        float(bool(words & {"was", "were", "had"}) and not words & _FIRST_PERSON),
        min(sum(1 for t in tokens if t in {"we", "our", "us", "we'd", "we've"}), 2),
    )


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


FEATURES: tuple[str, ...] = (
    "bias", "cue_opening", "cue_anywhere", "signal", "similarity", "position_distance", "no_evidence",
    "first_person_past", "first_plural_past", "numbers", "modal", "ongoing", "personal", "past_state",
    "present_state", "impersonal_past_state", "plural", "words", "fraction", "first", "last", "meaning",
)  # fmt: skip
MEANING = FEATURES.index("meaning")
# The meaning model reads a unit's embedding, the one before it and the one after it (zero at the ends), and 1.
MEANING_INPUTS = 3 * DIMENSIONS + 1


@dataclass(frozen=True)
class Weights:
    """Per section, one weight per feature; the two transition weights; the meaning model."""

    sections: dict[str, tuple[float, ...]]
    pause: float  # bonus for changing section after a longer pause than usual (per second, at most 1 s)
    skip: tuple[float, ...]  # per section, the cost of leaving it out (a weak answer skips the Task most often)
    # (sections, MEANING_INPUTS): per section, a logistic regression telling its units from the others'
    meaning: np.ndarray

    def skipping(self, first: int, last: int) -> float:
        """The cost of leaving out the sections with indices first..last-1."""
        return sum(self.skip[first:last])

    def to_yaml(self) -> str:
        data = {
            "features": list(FEATURES),
            "sections": {sec: [round(float(w), 4) for w in ws] for sec, ws in self.sections.items()},
            "pause": round(float(self.pause), 4),
            "skip": [round(float(w), 4) for w in self.skip],
            "meaning": {sec: [round(float(x), 5) for x in m] for sec, m in zip(SECTION_IDS, self.meaning)},
        }
        header = "# Learnt by tests/corpus/train_segmenter.py on the development corpus; do not edit by hand.\n"
        return header + yaml.safe_dump(data, sort_keys=False, width=200, default_flow_style=None)


@lru_cache(maxsize=1)
def load_weights() -> Weights:
    data = yaml.safe_load(WEIGHTS_FILE.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{WEIGHTS_FILE}: features do not match the code; run tests/corpus/train_segmenter.py")
    meaning = np.array([data["meaning"][sec] for sec in SECTION_IDS])
    return Weights(
        {sec: tuple(data["sections"][sec]) for sec in SECTION_IDS}, data["pause"], tuple(data["skip"]), meaning
    )


def _target_spans(scenario: Scenario, level: str) -> list[tuple[float, float]]:
    """Where each section would fall, as fractions of the answer, if every section kept to its target."""
    targets = [scenario.target_s(s, level) for s in SECTION_IDS]
    total, spans, acc = sum(targets), [], 0.0
    for t in targets:
        spans.append((acc / total, (acc + t) / total))
        acc += t
    return spans


def unit_embeddings(sentences: list[Sentence]) -> np.ndarray:
    return embeddings([join_words(s.words) for s in sentences])


def meaning_inputs(embeddings: np.ndarray) -> np.ndarray:
    """What the meaning model reads of each unit: its embedding and its neighbours' (a Task is often told in words
    any section could use, and known by what comes before and after it), then 1."""
    edge = np.zeros((1, embeddings.shape[1]))
    before = np.vstack([edge, embeddings[:-1]])
    after = np.vstack([embeddings[1:], edge])
    return np.hstack([embeddings, before, after, np.ones((len(embeddings), 1))])


def meaning_scores(embeddings: np.ndarray, model: np.ndarray) -> np.ndarray:
    """For each unit, the log of the probability each section's model gives it, less their mean over the sections.
    MODEL: (sections, MEANING_INPUTS)."""
    log = np.log(np.clip(logistic(meaning_inputs(embeddings) @ model.T), 1e-6, 1.0))
    return log - log.mean(axis=1, keepdims=True)


def unit_features(sentences: list[Sentence], scenario: Scenario, level: str, meaning: np.ndarray) -> np.ndarray:
    """Features of every sentence for every section: shape (sentences, sections, FEATURES)."""
    cues = load_cues()
    vocab = _Vocabulary(scenario, level)
    spans = _target_spans(scenario, level)
    t0, t1 = sentences[0].start, sentences[-1].end
    length = max(t1 - t0, 1e-6)
    out = np.zeros((len(sentences), len(SECTION_IDS), len(FEATURES)))
    meaning_of = meaning_scores(unit_embeddings(sentences), meaning)
    for i, sentence in enumerate(sentences):
        text = _sentence_text(sentence)
        opening, anywhere = _cue_scores(text, cues)
        grammar = _grammar_features(text)
        signals = vocab.signal_hits(text)
        similarity = vocab.similarity(content_stems(text))
        middle = ((sentence.start + sentence.end) / 2 - t0) / length
        for j, (lo, hi) in enumerate(spans):
            distance = 0.0 if lo <= middle <= hi else min(abs(middle - lo), abs(middle - hi))
            evidence = opening[j] + anywhere[j] + signals[j]
            out[i, j] = (
                1.0, opening[j], anywhere[j], signals[j], similarity[j], distance, float(evidence <= 0), *grammar,
                min(len(sentence.words), 40) / 20, middle, float(i == 0), float(i == len(sentences) - 1),
                meaning_of[i, j],
            )  # fmt: skip
    return out


def transition_pauses(sentences: list[Sentence]) -> list[float]:
    """Before each sentence, how much longer than this speaker's usual pause it is (0-1 s)."""
    pauses = [s.pause_before_s for s in sentences[1:]]
    typical = sorted(pauses)[len(pauses) // 2] if pauses else 0.0
    return [0.0] + [min(1.0, max(0.0, p - typical)) for p in pauses]


def best_labels(emit: np.ndarray, pauses: list[float], weights: Weights) -> list[int]:
    """The forward-only labelling of sentences with the highest total score (Viterbi)."""
    n, k = emit.shape
    neg = float("-inf")
    best = [[neg] * k for _ in range(n)]
    back = [[0] * k for _ in range(n)]
    for j in range(k):
        best[0][j] = emit[0][j] - weights.skipping(0, j)
    for i in range(1, n):
        bonus = weights.pause * pauses[i]
        for j in range(k):
            stay = best[i - 1][j]
            move, move_from = neg, j
            for prev in range(j):
                candidate = best[i - 1][prev] + bonus - weights.skipping(prev + 1, j)
                if candidate > move:
                    move, move_from = candidate, prev
            if stay >= move:
                best[i][j], back[i][j] = stay + emit[i][j], j
            else:
                best[i][j], back[i][j] = move + emit[i][j], move_from
    final = [best[n - 1][j] - weights.skipping(j + 1, k) for j in range(k)]
    state = max(range(k), key=lambda j: final[j])
    labels = [0] * n
    for i in range(n - 1, -1, -1):
        labels[i] = state
        state = back[i][state]
    return labels


def segment(sentences: list[Sentence], scenario: Scenario, level: str) -> list[SectionSpan]:
    """Label each sentence with a section so that sections only move forward; maximise the total score."""
    if not sentences:
        return [SectionSpan(sec, None, None) for sec in SECTION_IDS]
    weights = load_weights()
    matrix = np.array([weights.sections[sec] for sec in SECTION_IDS])
    emit = np.einsum("ikf,kf->ik", unit_features(sentences, scenario, level, weights.meaning), matrix)
    labels = best_labels(emit, transition_pauses(sentences), weights)
    spans = []
    for j, section in enumerate(SECTION_IDS):
        members = [i for i, label in enumerate(labels) if label == j]
        spans.append(SectionSpan(section, members[0], members[-1]) if members else SectionSpan(section, None, None))
    return spans
