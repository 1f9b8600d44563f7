"""The weak-pattern catalogue: rules as data, and the few kinds of check that run them.

Rules live in yaml (mock_interview/rules/catalogue.yaml, plus a user's folders);
this module only knows the kinds: existence, absence, ratio, rate, band, missing,
over-target, over-budget and learned. Existence and absence match tokens (regular expressions) and,
where a rule gives examples, sentences that say the same thing in other words (embed.py). A learned
rule scores its scope's sentence embeddings with a model learnt from the labelled corpus
(rules/flag_models.yaml). Every flag carries evidence: quoted words and times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from mock_interview.analysis.embed import DIMENSIONS, logistic, similarity
from mock_interview.analysis.star import unit_embeddings
from mock_interview.analysis.transcript import Filler, Sentence, Word, join_words, normalized_text, split_clauses
from mock_interview.datafiles import load_yaml, user_folders, validation_error, yaml_files
from mock_interview.scenario import SECTION_IDS, LevelId

RULES_ENV = "MOCK_INTERVIEW_RULES"
BUILTIN_RULES_DIR = Path(__file__).parent.parent / "rules"
CATALOGUE_FILE = "catalogue.yaml"
FLAG_MODELS_FILE = BUILTIN_RULES_DIR / "flag_models.yaml"
TRAIN_FLAGS = "tests/corpus/train_flags.py"

Kind = Literal["existence", "absence", "ratio", "rate", "band", "missing", "over-target", "over-budget", "learned"]
Severity = Literal["high", "medium", "low"]
Category = Literal["content", "structure", "delivery"]
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
MAX_EVIDENCE = 6
MIN_SIMILAR_WORDS = 4
MODEL_WEIGHTS = 3 * DIMENSIONS + 1  # a learned rule's: see scope_features


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    category: Category
    kind: Kind
    scope: list[str] = Field(default_factory=lambda: ["answer"])
    # Empty: every question and level. Otherwise the rule runs only for answers to these principles, at these levels.
    principles: list[str] = Field(default_factory=list)
    levels: list[LevelId] = Field(default_factory=list)
    tokens: list[str] = Field(default_factory=list)
    against: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    # Existence rules only: weaker evidence that counts only when nothing in the scope matches `outweighed_by`
    # ("I posted in their channel" is a handoff unless the answer goes on "I wrote the replay job").
    soft_tokens: list[str] = Field(default_factory=list)
    outweighed_by: list[str] = Field(default_factory=list)
    # Absence rules only: an empty scope counts as an absence too (a senior answer with no Reflection names no
    # systemic cause).
    fires_when_empty: bool = False
    # Where an `unless` token cancels a match: anywhere in its sentence, or only in its clause.
    unless_within: Literal["sentence", "clause"] = "sentence"
    # Said another way: a unit (sentence or clause, as unless_within) also matches when its sentence embedding is
    # at least min_similarity like one `like` example and nearer to it, by min_margin, than to every `unlike` one.
    # A learned rule's model is also taught these, each as a scope of one sentence (tests/corpus/train_flags.py).
    like: list[str] = Field(default_factory=list)
    unlike: list[str] = Field(default_factory=list)
    min_similarity: float = Field(default=0.5, gt=0, le=1)
    min_margin: float = Field(default=0.1, ge=0)
    # Existence rules only: what the scope is expected to hold. With no match of any `expect` token (in units
    # that match no `expect_unless` token), the rule fires as well: "never tested it" and never saying a test
    # both count.
    expect: list[str] = Field(default_factory=list)
    expect_unless: list[str] = Field(default_factory=list)
    # Learned rules only: the name of their model in rules/flag_models.yaml.
    model: str | None = None
    min_count: int = Field(default=1, ge=1)
    min_ratio: float | None = Field(default=None, ge=0, le=1)
    measure: Literal["fillers", "words_per_minute"] | None = None
    min: float | None = None
    max: float | None = None
    max_ratio: float | None = Field(default=None, gt=0)
    min_excess_s: float = 0.0
    grace_ratio: float = 0.0
    severity: Severity
    message: str
    coaching: str

    @model_validator(mode="after")
    def _fields_for_kind(self, info: ValidationInfo) -> Rule:
        needs = {
            "existence": ["tokens" if not self.like else "like"],
            "absence": ["tokens" if not self.like else "like"],
            "ratio": ["tokens", "against", "min_ratio"],
            "rate": ["measure", "max"],
            "band": ["measure", "min", "max"],
            "over-target": ["max_ratio"],
            "learned": ["model"],
        }.get(self.kind, [])
        for name in needs:
            if getattr(self, name) in (None, []):
                raise ValueError(f"a rule of kind '{self.kind}' needs '{name}'")
        # The models are known once they are trained: the trainer reads its rules with no context.
        models = (info.context or {}).get("models")
        if self.model is not None and models is not None and self.model not in models:
            raise ValueError(f"no model named '{self.model}' in {FLAG_MODELS_FILE.name}; train it with {TRAIN_FLAGS}")
        patterns = [*self.tokens, *self.soft_tokens, *self.outweighed_by, *self.against, *self.unless]
        for pattern in [*patterns, *self.expect, *self.expect_unless]:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"token {pattern!r} is not a valid regular expression: {err}") from None
        return self

    def applies(self, principle: str, level: str) -> bool:
        wanted = {p.lower() for p in self.principles}
        return (not wanted or principle.lower() in wanted) and (not self.levels or level in self.levels)

    @cached_property
    def token_res(self) -> list[re.Pattern[str]]:
        return [word_regex(t) for t in self.tokens]

    @cached_property
    def soft_res(self) -> list[re.Pattern[str]]:
        return [word_regex(t) for t in self.soft_tokens]

    @cached_property
    def outweighed_res(self) -> list[re.Pattern[str]]:
        return [word_regex(t) for t in self.outweighed_by]

    @cached_property
    def against_res(self) -> list[re.Pattern[str]]:
        return [word_regex(t) for t in self.against]

    @cached_property
    def unless_res(self) -> list[re.Pattern[str]]:
        return [word_regex(t) for t in self.unless]

    @cached_property
    def expect_res(self) -> list[re.Pattern[str]]:
        return [word_regex(t) for t in self.expect]

    @cached_property
    def expect_unless_res(self) -> list[re.Pattern[str]]:
        return [word_regex(t) for t in self.expect_unless]


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    long_pause_s: float = Field(default=2.5, gt=0)
    section_over_ratio: float = Field(default=1.25, gt=1)
    section_under_ratio: float = Field(default=0.5, gt=0, lt=1)
    fillers: list[str] = Field(default_factory=list)


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thresholds: Thresholds | None = None
    rules: list[Rule] = Field(default_factory=list)


@dataclass(frozen=True)
class Catalogue:
    thresholds: Thresholds
    rules: tuple[Rule, ...]

    @property
    def ids(self) -> set[str]:
        return {r.id for r in self.rules}


@dataclass(frozen=True)
class Evidence:
    quote: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Flag:
    id: str
    section: str | None
    severity: str
    category: str
    message: str
    coaching: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class FlagModel:
    """Logistic regression over a scope's sentence embeddings: their mean, element-wise maximum and last one."""

    weights: np.ndarray  # (MODEL_WEIGHTS,): the mean's weights, the maximum's, the last sentence's, then the bias
    threshold: float  # the probability at and above which the rule fires

    def probability(self, vectors: np.ndarray) -> float:
        """How likely the sentences with these embeddings (one row each) are to deserve the flag."""
        return float(logistic(scope_features(vectors) @ self.weights))


def scope_features(vectors: np.ndarray) -> np.ndarray:
    """What a learned rule sees of its scope's sentences: the mean and the maximum of their embeddings, the last
    one (a lesson is often closed by the sentence that decides it), then 1."""
    return np.concatenate([vectors.mean(axis=0), vectors.max(axis=0), vectors[-1], [1.0]])


def dump_flag_models(models: dict[str, FlagModel]) -> str:
    data = {
        name: {"threshold": m.threshold, "weights": [round(float(w), 5) for w in m.weights]}
        for name, m in models.items()
    }
    header = f"# Learnt by {TRAIN_FLAGS} on the development corpus; do not edit by hand.\n"
    return header + yaml.safe_dump({"models": data}, sort_keys=True, width=200, default_flow_style=None)


@lru_cache(maxsize=1)
def load_flag_models() -> dict[str, FlagModel]:
    data = load_yaml(FLAG_MODELS_FILE) or {}
    models = {name: FlagModel(np.array(m["weights"]), m["threshold"]) for name, m in data["models"].items()}
    for name, model in models.items():
        if model.weights.shape != (MODEL_WEIGHTS,):
            raise ValueError(f"{FLAG_MODELS_FILE}: model '{name}' does not match the code; run {TRAIN_FLAGS}")
    return models


def word_regex(token: str) -> re.Pattern[str]:
    # Tokens match whole words of the normalized text, never the middle of one.
    return re.compile(rf"(?<![\w'$€£])(?:{token})(?![\w'])", re.IGNORECASE)


def read_rule_file(path: Path, models: Iterable[str] | None = None) -> RuleFile:
    """The rules in PATH; with MODELS, the names of the learned models a rule may use."""
    context = None if models is None else {"models": set(models)}
    try:
        return RuleFile.model_validate(load_yaml(path) or {}, context=context)
    except ValidationError as err:
        raise validation_error(path, err) from None


def load_catalogue(user_dirs: Iterable[Path] = ()) -> Catalogue:
    """The built-in catalogue, then every yaml file in the user's rule folders (same id replaces)."""
    models = load_flag_models()
    base = read_rule_file(BUILTIN_RULES_DIR / CATALOGUE_FILE, models)
    thresholds = base.thresholds or Thresholds()
    rules = {r.id: r for r in base.rules}
    for folder in user_folders(list(user_dirs), RULES_ENV):
        for path in yaml_files(folder, "rule"):
            extra = read_rule_file(path, models)
            thresholds = extra.thresholds or thresholds
            rules.update({r.id: r for r in extra.rules})
    return Catalogue(thresholds, tuple(rules.values()))


# ---- matching ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    first: int  # word indices into the transcript, inclusive
    last: int


def find_matches(patterns: list[re.Pattern[str]], sentence: Sentence) -> list[Match]:
    text, owner = normalized_text(sentence.words)
    found: list[Match] = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append(Match(sentence.first + owner[m.start()], sentence.first + owner[m.end() - 1]))
    found.sort(key=lambda m: (m.first, -m.last))
    # A word belongs to one match at most, the longest starting there: overlapping patterns must not count twice.
    unique: list[Match] = []
    for m in found:
        if not unique or m.first > unique[-1].last:
            unique.append(m)
    return unique


def evidence_for(words: tuple[Word, ...], first: int, last: int) -> Evidence:
    quote = join_words(words[first : last + 1]).strip(" ,;:.!?")
    return Evidence(quote, words[first].start, words[last].end)


def sentence_evidence(words: tuple[Word, ...], sentence: Sentence) -> Evidence:
    return evidence_for(words, sentence.first, sentence.first + len(sentence.words) - 1)


def format_message(rule: Rule, **values: object) -> str:
    class _Keep(dict):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    try:
        return rule.message.format_map(_Keep(values))
    except (ValueError, TypeError):
        return rule.message


# ---- the kinds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionTiming:
    id: str
    start_s: float | None
    end_s: float | None
    duration_s: float | None
    target_s: float
    status: str  # ok, over, under or missing


@dataclass(frozen=True)
class AnswerView:
    """What the rules look at: the words, the sentences by section, and the measured timing."""

    words: tuple[Word, ...]
    sentences: tuple[Sentence, ...]
    sections: dict[str, tuple[Sentence, ...]]  # section id -> its sentences, in order
    timings: tuple[SectionTiming, ...]
    level: str
    principle: str
    budget_s: float
    fillers: tuple[Filler, ...]
    words_per_minute: float
    speaking_s: float

    def scope(self, scope: list[str]) -> list[Sentence]:
        if "answer" in scope:
            return list(self.sentences)
        return [s for section in scope for s in self.sections.get(section, ())]


def _units(rule: Rule, sentences: list[Sentence]) -> list[Sentence]:
    """What the rule matches in: the sentences, or their clauses (`unless_within: clause`)."""
    return sentences if rule.unless_within == "sentence" else [c for s in sentences for c in split_clauses(s)]


def _token_matches(rule: Rule, sentences: list[Sentence]) -> list[Match]:
    """Token and similarity matches in unit order, units cancelled by `unless` skipped."""
    units = [u for u in _units(rule, sentences) if not (rule.unless_res and find_matches(rule.unless_res, u))]
    matches = [m for u in units for m in find_matches(rule.token_res, u)]
    if rule.soft_res and not any(find_matches(rule.outweighed_res, s) for s in sentences):
        matches += [m for u in units for m in find_matches(rule.soft_res, u)]
    hit = {m.first for m in matches}
    for unit, similar in zip(units, _similar(rule, units)):
        last = unit.first + len(unit.words) - 1
        if similar and not any(unit.first <= first <= last for first in hit):
            matches.append(Match(unit.first, last))
    return sorted(matches, key=lambda m: m.first)


def _similar(rule: Rule, units: list[Sentence]) -> list[bool]:
    if not rule.like or not units:
        return [False] * len(units)
    texts = [join_words(u.words) for u in units]
    like = similarity(texts, rule.like)
    # A fragment ("Lesson for me.") carries too little meaning to be judged like anything.
    like[[len(u.words) < MIN_SIMILAR_WORDS for u in units]] = 0.0
    unlike = similarity(texts, rule.unlike) if rule.unlike else np.full(like.shape, -1.0)
    return [bool(lk >= rule.min_similarity and lk - ulk >= rule.min_margin) for lk, ulk in zip(like, unlike)]


def _section_of(view: AnswerView, word_index: int) -> str | None:
    for section, sentences in view.sections.items():
        for s in sentences:
            if s.first <= word_index < s.first + len(s.words):
                return section
    return None


def _flag(rule: Rule, evidence: list[Evidence], flag_section: str | None, **values: object) -> Flag:
    return Flag(
        id=rule.id,
        section=flag_section,
        severity=rule.severity,
        category=rule.category,
        message=format_message(rule, **values),
        coaching=rule.coaching,
        evidence=tuple(evidence[:MAX_EVIDENCE]),
    )


def _scope_section(rule: Rule, matches: list[Match], view: AnswerView) -> str | None:
    if len(rule.scope) == 1 and rule.scope[0] != "answer":
        return rule.scope[0]
    return _section_of(view, matches[0].first) if matches else None


def _check_existence(rule: Rule, view: AnswerView) -> list[Flag]:
    sentences = view.scope(rule.scope)
    matches = _token_matches(rule, sentences)
    if len(matches) < rule.min_count:
        return _check_expected(rule, view, sentences)
    evidence = [evidence_for(view.words, m.first, m.last) for m in matches]
    quotes = ", ".join(f"'{e.quote}'" for e in evidence[:3])
    return [_flag(rule, evidence, _scope_section(rule, matches, view), count=len(matches), quotes=quotes)]


def _check_expected(rule: Rule, view: AnswerView, sentences: list[Sentence]) -> list[Flag]:
    if not rule.expect or not sentences:
        return []
    units = _units(rule, sentences)
    if any(find_matches(rule.expect_res, u) for u in units if not find_matches(rule.expect_unless_res, u)):
        return []
    # The evidence is where the missing words belonged: the end of the scope, where the story moves on.
    evidence = [sentence_evidence(view.words, s) for s in sentences[-2:]]
    return [_flag(rule, evidence, _section_of(view, sentences[-1].first), count=0, quotes="")]


def _check_absence(rule: Rule, view: AnswerView) -> list[Flag]:
    sentences = view.scope(rule.scope)
    if not sentences and rule.fires_when_empty and view.sentences:
        # The evidence is where the section belonged: the end of the answer.
        return [_flag(rule, [sentence_evidence(view.words, view.sentences[-1])], rule.scope[0])]
    if not sentences or _token_matches(rule, sentences):
        return []
    evidence = [sentence_evidence(view.words, s) for s in sentences]
    section = next((sec for sec in rule.scope if view.sections.get(sec)), None)
    return [_flag(rule, evidence, section)]


def _check_ratio(rule: Rule, view: AnswerView) -> list[Flag]:
    sentences = view.scope(rule.scope)
    hits = [m for s in sentences for m in find_matches(rule.token_res, s)]
    others = [m for s in sentences for m in find_matches(rule.against_res, s)]
    if len(hits) < rule.min_count or len(hits) / (len(hits) + len(others)) < (rule.min_ratio or 0):
        return []
    evidence = [evidence_for(view.words, m.first, m.last) for m in hits]
    return [_flag(rule, evidence, _scope_section(rule, hits, view), count=len(hits), against_count=len(others))]


def _check_rate(rule: Rule, view: AnswerView) -> list[Flag]:
    minutes = view.speaking_s / 60
    if minutes <= 0 or rule.measure != "fillers":
        return []
    rate = len(view.fillers) / minutes
    if rate <= (rule.max or 0):
        return []
    evidence = [Evidence(f.word if f.heard == "transcript" else f"({f.word})", f.start, f.end) for f in view.fillers]
    return [_flag(rule, evidence, None, count=len(view.fillers), minutes=minutes, rate=rate)]


def _check_band(rule: Rule, view: AnswerView) -> list[Flag]:
    value = view.words_per_minute
    low, high = rule.min or 0.0, rule.max or float("inf")
    if view.speaking_s <= 0 or low <= value <= high:
        return []

    # The sentences furthest outside the band show where the pace went wrong.
    def pace(s: Sentence) -> float:
        return len(s.words) / max(s.end - s.start, 0.1) * 60

    worst = sorted(view.sentences, key=pace, reverse=value > high)[:3]
    evidence = [sentence_evidence(view.words, s) for s in sorted(worst, key=lambda s: s.index)]
    return [_flag(rule, evidence, None, value=value, min=low, max=high)]


def _check_missing(rule: Rule, view: AnswerView) -> list[Flag]:
    flags = []
    for timing in view.timings:
        if timing.status != "missing":
            continue
        # The evidence is where the section should have been: the sentence that came in its place.
        later = [s for t in view.timings if _order(t.id) > _order(timing.id) for s in view.sections.get(t.id, ())]
        earlier = [s for t in view.timings if _order(t.id) < _order(timing.id) for s in view.sections.get(t.id, ())]
        anchor = later[0] if later else (earlier[-1] if earlier else None)
        evidence = [sentence_evidence(view.words, anchor)] if anchor else []
        flags.append(_flag(rule, evidence, timing.id, section=timing.id.capitalize()))
    return flags


def _check_over_target(rule: Rule, view: AnswerView) -> list[Flag]:
    flags = []
    for t in view.timings:
        if t.duration_s is None or t.duration_s <= t.target_s * (rule.max_ratio or 1):
            continue
        if t.duration_s - t.target_s < rule.min_excess_s:
            continue
        sentences = view.sections[t.id]
        # Evidence: the words spoken after the target ran out, where trimming should start.
        cutoff = (t.start_s or 0) + t.target_s
        past = [s for s in sentences if s.end > cutoff] or list(sentences)
        evidence = [sentence_evidence(view.words, s) for s in past]
        flags.append(_flag(rule, evidence, t.id, section=t.id.capitalize(), duration=t.duration_s, target=t.target_s))
    return flags


def _check_over_budget(rule: Rule, view: AnswerView) -> list[Flag]:
    if not view.words:
        return []
    start = view.words[0].start
    duration = view.words[-1].end - start
    if duration <= view.budget_s * (1 + rule.grace_ratio):
        return []
    past = [s for s in view.sentences if s.end > start + view.budget_s]
    evidence = [sentence_evidence(view.words, s) for s in past]
    return [_flag(rule, evidence, None, duration=duration, budget=view.budget_s, level=view.level)]


def _check_learned(rule: Rule, view: AnswerView) -> list[Flag]:
    sentences = view.scope(rule.scope)
    if not sentences:
        return []
    model = load_flag_models()[rule.model or ""]
    vectors = unit_embeddings(sentences)
    probability = model.probability(vectors)
    if probability < model.threshold:
        return []
    # The evidence: the sentences the model would flag on their own, or else the one it finds most like the flag.
    alone = [model.probability(v[None, :]) for v in vectors]
    chosen = [s for s, p in zip(sentences, alone) if p >= model.threshold] or [sentences[int(np.argmax(alone))]]
    evidence = [sentence_evidence(view.words, s) for s in chosen]
    section = _scope_section(rule, [Match(s.first, s.first) for s in chosen], view)
    return [_flag(rule, evidence, section, probability=probability)]


def _order(section: str) -> int:
    return SECTION_IDS.index(section)


CHECKS = {
    "existence": _check_existence,
    "absence": _check_absence,
    "ratio": _check_ratio,
    "rate": _check_rate,
    "band": _check_band,
    "missing": _check_missing,
    "over-target": _check_over_target,
    "over-budget": _check_over_budget,
    "learned": _check_learned,
}


def evaluate(catalogue: Catalogue, view: AnswerView) -> list[Flag]:
    rules = [rule for rule in catalogue.rules if rule.applies(view.principle, view.level)]
    flags = [flag for rule in rules for flag in CHECKS[rule.kind](rule, view)]
    return sorted(flags, key=lambda f: (SEVERITY_ORDER[f.severity], f.evidence[0].start_s if f.evidence else 0.0))
