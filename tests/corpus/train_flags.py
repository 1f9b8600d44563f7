#!/usr/bin/env python3
"""Learn the models of the catalogue's learned rules (mock_interview/rules/flag_models.yaml) on the development corpus.

    .venv/bin/python tests/corpus/train_flags.py [--dry-run] [--rules DIR ...]

A learned rule's model is a logistic regression over its scope's sentence embeddings (their mean, maximum and
last one: patterns.scope_features), fitted by Newton's method with an L2 penalty. Its examples are the development
answers the rule applies to, read as text with their true sections (the label: does the answer's story file list
the flag), each scope again with the sentence before it added, and the rule's own like and unlike sentences. The
penalty is chosen by cross-validation with whole stories kept out together, and that estimate is reported. Only
the development part is read: the held-out part stays unseen.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

from mock_interview.analysis.embed import embeddings, logistic  # noqa: E402
from mock_interview.analysis.patterns import (  # noqa: E402
    BUILTIN_RULES_DIR,
    CATALOGUE_FILE,
    FLAG_MODELS_FILE,
    MODEL_WEIGHTS,
    FlagModel,
    Rule,
    dump_flag_models,
    read_rule_file,
    scope_features,
)
from mock_interview.analysis.star import unit_embeddings  # noqa: E402
from mock_interview.datafiles import yaml_files  # noqa: E402

PENALTIES = (0.01, 0.03, 0.1, 0.3, 1.0)
FOLDS = 5
THRESHOLD = 0.5
NEWTON_STEPS = 50


@dataclass(frozen=True)
class Examples:
    x: np.ndarray  # one row per answer: the features of its scope by its true sections
    y: np.ndarray  # 1 where the answer's story file lists the flag
    stories: list[str]
    # The same scopes with the sentence before them added, as the segmenter often hands a section its
    # neighbour's last sentence; taught, never scored. shifted_of: the answer (row of x) each belongs to.
    shifted: np.ndarray
    shifted_of: np.ndarray


def examples(rule: Rule, answers: list[corpus.Answer]) -> Examples:
    """The answers the rule applies to that have words in its scope (it never fires on an empty one)."""
    rows, labels, stories, shifted, shifted_of = [], [], [], [], []
    for answer in answers:
        if not rule.applies(answer.principle, answer.level):
            continue
        _, sentences, owners = corpus.true_sentences(answer.sections)
        inside = [i for i, owner in enumerate(owners) if "answer" in rule.scope or owner in rule.scope]
        if not inside:
            continue
        before = [inside[0] - 1] if inside[0] > 0 else []
        vectors = unit_embeddings([sentences[i] for i in before + inside])
        if before:
            shifted.append(scope_features(vectors))
            shifted_of.append(len(rows))
        rows.append(scope_features(vectors[len(before) :]))
        labels.append(rule.id in answer.flags)
        stories.append(answer.story)
    return Examples(
        np.array(rows).reshape(-1, MODEL_WEIGHTS),
        np.array(labels, dtype=float),
        stories,
        np.array(shifted).reshape(-1, MODEL_WEIGHTS),
        np.array(shifted_of, dtype=int),
    )


def rule_examples(rule: Rule) -> tuple[np.ndarray, np.ndarray]:
    """The rule's own `like` and `unlike` sentences, each as a scope of one sentence, labelled 1 and 0."""
    sentences = [*rule.like, *rule.unlike]
    x = np.array([scope_features(v[None, :]) for v in embeddings(sentences)]).reshape(len(sentences), MODEL_WEIGHTS)
    return x, np.array([1.0] * len(rule.like) + [0.0] * len(rule.unlike))


def fit(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """L2-penalised logistic regression by Newton's method (the bias, x's last column, is penalised as well)."""
    w = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = logistic(x @ w)
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def precision_recall(found: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    hits = float((found & truth).sum())
    return hits / max(found.sum(), 1), hits / max(truth.sum(), 1)


def fit_taught(data: Examples, keep: np.ndarray, extra: tuple[np.ndarray, np.ndarray], penalty: float) -> np.ndarray:
    """A model fitted on the answers KEEP marks (their shifted scopes too) and on the EXTRA examples."""
    shifted = keep[data.shifted_of]
    x = np.vstack([data.x[keep], data.shifted[shifted], extra[0]])
    return fit(x, np.concatenate([data.y[keep], data.y[data.shifted_of][shifted], extra[1]]), penalty)


def cross_validate(data: Examples, extra: tuple[np.ndarray, np.ndarray], penalty: float) -> tuple[float, float]:
    """Precision and recall over development answers, each scored by a model fitted without its story."""
    names = sorted(set(data.stories))
    fold_of = {name: i % FOLDS for i, name in enumerate(np.random.default_rng(0).permutation(names))}
    folds = np.array([fold_of[s] for s in data.stories])
    scores = np.zeros(len(data.y))
    for k in range(FOLDS):
        w = fit_taught(data, folds != k, extra, penalty)
        scores[folds == k] = logistic(data.x[folds == k] @ w)
    return precision_recall(scores >= THRESHOLD, data.y == 1)


def f1(pr: tuple[float, float]) -> float:
    return 2 * pr[0] * pr[1] / max(pr[0] + pr[1], 1e-12)


@dataclass(frozen=True)
class Trained:
    model: FlagModel
    penalty: float
    answers: int
    flagged: int
    cross_validated: tuple[float, float]  # precision, recall on stories left out
    on_training: tuple[float, float]


def train(rule: Rule, answers: list[corpus.Answer]) -> Trained:
    data = examples(rule, answers)
    extra = rule_examples(rule)
    scored = {penalty: cross_validate(data, extra, penalty) for penalty in PENALTIES}
    penalty = max(PENALTIES, key=lambda p: f1(scored[p]))
    w = fit_taught(data, np.ones(len(data.y), dtype=bool), extra, penalty)
    on_training = precision_recall(logistic(data.x @ w) >= THRESHOLD, data.y == 1)
    flagged = int(data.y.sum())
    return Trained(FlagModel(w, THRESHOLD), penalty, len(data.y), flagged, scored[penalty], on_training)


def learned_rules(folders: list[Path]) -> list[Rule]:
    """The learned rules of the built-in catalogue and of FOLDERS (a user's rule replaces the built-in one)."""
    files = [BUILTIN_RULES_DIR / CATALOGUE_FILE, *(p for folder in folders for p in yaml_files(folder, "rule"))]
    rules = {r.id: r for path in files for r in read_rule_file(path).rules}
    return [r for r in rules.values() if r.kind == "learned"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="report the cross-validation, do not write the models")
    parser.add_argument("--rules", type=Path, action="append", default=[], help="a folder of the user's rules too")
    args = parser.parse_args(argv)
    answers = corpus.answers("dev")
    models = {}
    for rule in learned_rules(args.rules):
        t = train(rule, answers)
        print(
            f"{rule.model} ({rule.id}): {t.answers} answers, {t.flagged} flagged; penalty {t.penalty}; "
            f"cross-validated precision {t.cross_validated[0]:.3f} recall {t.cross_validated[1]:.3f}; "
            f"on its training answers {t.on_training[0]:.3f} / {t.on_training[1]:.3f}"
        )
        models[rule.model or rule.id] = t.model
    if not args.dry_run:
        FLAG_MODELS_FILE.write_text(dump_flag_models(models), encoding="utf-8")
        print(f"wrote {FLAG_MODELS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
