#!/usr/bin/env python3
"""Learn the STAR segmentation's weights (mock_interview/rules/star_weights.yaml) on the development corpus.

    .venv/bin/python tests/corpus/train_segmenter.py            # needs the rendered corpus (render.py)

Two models, one on top of the other. The meaning model is a logistic regression per section over a unit's
sentence embedding and its neighbours' (L2-penalised, Newton's method). The section weights are an averaged
structured perceptron (Collins, 2002): each development answer, as its text timed at a steady pace and as the
transcript of its rendered audio, is segmented with the current weights; where the labelling differs from the
truth, the weights move towards the features of the true labelling and away from those of the found one. The
perceptron sees each answer's meaning scores from a meaning model fitted without its story, so that it learns
how far to trust that model on stories it has not seen. Only the development part is read: the held-out part
stays unseen.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent.parent / "audio_fixtures"
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
from train_flags import fit  # noqa: E402

from mock_interview.analysis.star import (  # noqa: E402
    FEATURES,
    MEANING,
    MEANING_INPUTS,
    WEIGHTS_FILE,
    Weights,
    answer_units,
    best_labels,
    meaning_inputs,
    meaning_scores,
    transition_pauses,
    unit_embeddings,
    unit_features,
)
from mock_interview.analysis.transcript import Transcript  # noqa: E402
from mock_interview.scenario import SECTION_IDS, Scenario, find_scenario  # noqa: E402
from mock_interview.speech.transcribe import load_engine  # noqa: E402

BASE_SCENARIO = "dive-deep-webhook"
SEED_WEIGHT = 3
# The meaning model's L2 penalty: cross-validated sentence accuracy was flat from 0.3 to 5.
MEANING_PENALTY = 1.0
# The perceptron's meaning scores come from models fitted with this many folds of stories left out.
MEANING_FOLDS = 4


# The meaning feature needs the meaning model, which training learns too: features are made with no model (that
# column zero), and every fit fills the column in.
NO_MEANING = np.zeros((len(SECTION_IDS), MEANING_INPUTS))


@dataclass(frozen=True)
class Example:
    story: str
    features: np.ndarray  # (units, sections, FEATURES)
    embeddings: np.ndarray  # (units, 384)
    pauses: list[float]
    labels: list[int]  # the true section of each unit


def _example(story: str, sentences: list, labels: list[int], scenario: Scenario, level: str) -> Example:
    features = unit_features(sentences, scenario, level, NO_MEANING)
    return Example(story, features, unit_embeddings(sentences), transition_pauses(sentences), labels)


def _from_text(story: str, sections: dict[str, str], scenario: Scenario, level: str) -> Example:
    _, sentences, owners = corpus.true_sentences(sections)
    labels = [SECTION_IDS.index(owner) for owner in owners]
    return _example(story, sentences, labels, scenario, level)


def _from_audio(story: str, transcript: Transcript, spans: dict, scenario: Scenario, level: str) -> Example:
    sentences = answer_units(transcript.words)
    labels = []
    for s in sentences:
        heard = [corpus.section_at(spans, (w.start + w.end) / 2) for w in s.words]
        labels.append(SECTION_IDS.index(max(set(heard), key=heard.count)))
    return _example(story, sentences, labels, scenario, level)


def fit_meaning(data: list[Example]) -> np.ndarray:
    """The meaning model fitted on DATA: per section, its units against all the others."""
    x = np.vstack([meaning_inputs(e.embeddings) for e in data])
    labels = np.concatenate([e.labels for e in data])
    return np.array([fit(x, (labels == j).astype(float), MEANING_PENALTY) for j in range(len(SECTION_IDS))])


def with_meaning(x: Example, model: np.ndarray) -> np.ndarray:
    features = x.features.copy()
    features[:, :, MEANING] = meaning_scores(x.embeddings, model)
    return features


def story_folds(data: list[Example], folds: int) -> list[tuple[list[int], list[int]]]:
    """DATA's indices split FOLDS ways by story: per fold, (the other stories' examples, the fold's own)."""
    stories = sorted({x.story for x in data})
    out = []
    for fold in range(folds):
        unseen = set(stories[fold::folds])
        out.append(
            (
                [i for i, x in enumerate(data) if x.story not in unseen],
                [i for i, x in enumerate(data) if x.story in unseen],
            )
        )
    return out


def unseen_meaning(data: list[Example]) -> list[np.ndarray]:
    """Each example's features with meaning scores from a model fitted on the other folds of stories."""
    out: list[np.ndarray | None] = [None] * len(data)
    for seen, unseen in story_folds(data, MEANING_FOLDS):
        model = fit_meaning([data[i] for i in seen])
        for i in unseen:
            out[i] = with_meaning(data[i], model)
    return out


def examples(engine) -> list[Example]:
    """(story, features, pauses, true labels) of every development answer, as text and as rendered audio, and of
    the recorded STAR answers in audio_fixtures/ (the seed's own story, with its scenario's signals)."""
    base = find_scenario(BASE_SCENARIO)
    rendered = {r.answer: r for r in corpus.load_rendered()}
    out = []
    for answer in corpus.answers("dev"):
        scenario = base.model_copy(update={"principle": answer.principle})
        out.append(_from_text(answer.story, answer.sections, scenario, answer.level))
        if answer.id in rendered:
            spoken = rendered[answer.id]
            transcript = corpus.cached_transcript(spoken.audio, engine)
            out.append(_from_audio(answer.story, transcript, spoken.spans, scenario, answer.level))
    for sidecar in sorted(FIXTURES.glob("*.json")):
        truth = json.loads(sidecar.read_text())
        if truth.get("scenario") != BASE_SCENARIO or truth["kind"] == "probe-answer":
            continue
        spans = {
            s["id"]: None if s["start_s"] is None else corpus.Span(s["start_s"], s["end_s"]) for s in truth["sections"]
        }
        texts = {s["id"]: s["text"] for s in truth["sections"]}
        cache = corpus.corpus_dir() / "fixture-transcripts"
        transcript = corpus.cached_transcript(FIXTURES / truth["audio"], engine, cache)
        # The seed's own answers are the labels the product is judged by first: they count SEED_WEIGHT times.
        out += [
            _from_text("seed", texts, base, "sde2"),
            _from_audio("seed", transcript, spans, base, "sde2"),
        ] * SEED_WEIGHT
    return out


def transition_features(labels: list[int], pauses: list[float]) -> np.ndarray:
    """(sum of pause bonuses at section changes, then for each section minus 1 if it was skipped) of a labelling."""
    pause = sum(pauses[i] for i in range(1, len(labels)) if labels[i] != labels[i - 1])
    present = set(labels)
    return np.array([pause] + [0.0 if j in present else -1.0 for j in range(len(SECTION_IDS))])


def train(data: list[Example], epochs: int, seed: int) -> Weights:
    meaning = fit_meaning(data)
    features_of = unseen_meaning(data)
    k, d = len(SECTION_IDS), len(FEATURES)
    w, t = np.zeros((k, d)), np.array([0.5] + [1.0] * k)
    w_sum, t_sum, steps = np.zeros_like(w), np.zeros_like(t), 0
    order = list(range(len(data)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for n in order:
            features, pauses, truth = features_of[n], data[n].pauses, data[n].labels
            weights = Weights({s: tuple(w[j]) for j, s in enumerate(SECTION_IDS)}, t[0], tuple(t[1:]), meaning)
            found = best_labels(np.einsum("ikf,kf->ik", features, w), pauses, weights)
            if found != truth:
                for i, (a, b) in enumerate(zip(truth, found)):
                    if a != b:
                        w[a] += features[i, a]
                        w[b] -= features[i, b]
                t += transition_features(truth, pauses) - transition_features(found, pauses)
                t = np.maximum(t, 0.0)  # a pause never makes a change dearer, a skip never pays
            w_sum += w
            t_sum += t
            steps += 1
    w_avg, t_avg = w_sum / steps, t_sum / steps
    sections = {s: tuple(w_avg[j]) for j, s in enumerate(SECTION_IDS)}
    return Weights(sections, float(t_avg[0]), tuple(t_avg[1:]), meaning)


def accuracy(data: list[Example], weights: Weights) -> float:
    matrix = np.array([weights.sections[s] for s in SECTION_IDS])
    right = total = 0
    for x in data:
        features = with_meaning(x, weights.meaning)
        found = best_labels(np.einsum("ikf,kf->ik", features, matrix), x.pauses, weights)
        right += sum(a == b for a, b in zip(x.labels, found))
        total += len(x.labels)
    return right / total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dry-run", action="store_true", help="report the accuracy, do not write the weights")
    parser.add_argument("--folds", type=int, default=4, help="cross-validation folds over development stories")
    parser.add_argument("--no-meaning", action="store_true", help="leave the sentence-embedding feature out")
    args = parser.parse_args(argv)
    data = examples(load_engine())
    if args.no_meaning:  # for comparison: the same model with the meaning feature pinned to zero
        data = [Example(x.story, x.features, np.zeros_like(x.embeddings), x.pauses, x.labels) for x in data]
    scores = []
    for seen, unseen in story_folds(data, args.folds):
        weights = train([data[i] for i in seen], args.epochs, args.seed)
        scores.append(accuracy([data[i] for i in unseen], weights))
    print(
        f"cross-validated sentence accuracy on unseen development stories: {np.mean(scores):.3f} "
        f"({', '.join(f'{s:.3f}' for s in scores)})"
    )
    weights = train(data, args.epochs, args.seed)
    print(f"{len(data)} development examples; sentence accuracy after training {accuracy(data, weights):.3f}")
    if not args.dry_run:
        WEIGHTS_FILE.write_text(weights.to_yaml(), encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
