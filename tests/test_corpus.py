"""The labelled corpus: its shape, the rules on its text, and a few answers spoken and analysed end to end.

The full measurement (every answer spoken in five voices and three paces, both parts of the
split) is benchmarks/analysis_quality.py; these tests keep the corpus honest and guard the
analysis on it within CI's time.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter

import numpy as np
import pytest

from conftest import ROOT
from mock_interview.analysis.patterns import MODEL_WEIGHTS, Rule, load_flag_models
from mock_interview.analysis.star import SectionSpan
from mock_interview.analyze import analyze_transcript, read_answer
from mock_interview.scenario import SECTION_IDS

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import corpus  # noqa: E402
import render  # noqa: E402
import train_flags  # noqa: E402

ANSWERS = corpus.answers()
CONTENT_FLAGS = set(corpus.CONTENT_FLAGS)


def test_the_corpus_is_big_and_varied_enough():
    stories = corpus.load_stories()
    assert len(ANSWERS) >= 40
    assert len(stories) >= 20
    assert len({s.principle for s in stories}) >= 8
    assert all({"strong", "weak"} <= {a.variant for a in s.answers} for s in stories)
    assert sum(a.variant == "long-situation" for a in ANSWERS) >= 4
    assert sum(any(not a.sections[s] for s in SECTION_IDS) for a in ANSWERS) >= 4
    assert {a.level for a in ANSWERS} == {"sde1", "sde2", "senior"}


def test_held_out_is_a_third_of_the_stories_and_holds_every_flag():
    stories = corpus.load_stories()
    held_out = [s for s in stories if s.split == "heldout"]
    assert abs(len(held_out) / len(stories) - 1 / 3) < 0.05
    for split in corpus.SPLITS:
        counts = Counter(f for a in corpus.answers(split) for f in a.flags)
        assert set(counts) == CONTENT_FLAGS, f"{split} lacks {CONTENT_FLAGS - set(counts)}"


def test_every_answer_keeps_the_voice_it_was_first_dealt():
    """dealt.tsv is committed with the stories, so a new set never moves an older answer to another voice, and a set
    moved from heldout to dev keeps its audio."""
    dealt = render.read_dealt()
    assert set(dealt) == {a.id for a in ANSWERS}, "render.py deals new answers into dealt.tsv: commit it"
    moved = [dataclasses.replace(a, split="dev") if a.split == "heldout" else a for a in ANSWERS]
    assert render.deal(moved, dealt) == dealt
    for split in corpus.SPLITS:
        voices = Counter(dealt[a.id].voice for a in corpus.answers(split))
        assert max(voices.values()) - min(voices.values()) <= len(voices), (split, voices)


def _with_true_sections(answer: corpus.Answer, catalogue, scenario):
    """The answer as text, timed at a steady pace, analysed with its sections where they truly are."""
    transcript, sentences, labels = corpus.true_sentences(answer.sections)
    spans = []
    for section in SECTION_IDS:
        members = [i for i, label in enumerate(labels) if label == section]
        spans.append(SectionSpan(section, members[0], members[-1]) if members else SectionSpan(section, None, None))
    chosen = scenario.model_copy(update={"principle": answer.principle})
    return analyze_transcript(transcript, chosen, answer.level, catalogue, spans=spans)


@pytest.mark.parametrize("answer", corpus.answers("dev"), ids=lambda a: a.id)
def test_each_development_answer_raises_exactly_its_content_flags(answer, catalogue, scenario):
    report = _with_true_sections(answer, catalogue, scenario)
    raised = {f.id for f in report.flags} & CONTENT_FLAGS
    assert raised == set(answer.flags), [f"{f.id}: {[e.quote for e in f.evidence]}" for f in report.flags]


def test_the_learned_flag_models_are_what_the_development_corpus_teaches():
    """Each learned rule's model, retrained here, flags stories it never saw (cross-validated over development
    stories) and is the model shipped: a corpus or code change without retraining fails."""
    shipped = load_flag_models()
    for rule in train_flags.learned_rules([]):
        trained = train_flags.train(rule, corpus.answers("dev"))
        assert min(trained.cross_validated) >= 0.9, (rule.id, trained.cross_validated)
        assert np.allclose(trained.model.weights, shipped[rule.model].weights, atol=1e-3), rule.id


def test_a_users_learned_rule_trains_with_no_examples_of_its_own_and_any_scope():
    """A scope that starts the answer has no sentence before it to add, and the rule gives no like sentences."""
    rule = Rule(
        id="we-language", category="content", kind="learned", model="x", scope=["situation"], severity="low",
        message="m", coaching="c",
    )  # fmt: skip
    answers = corpus.answers("dev")[:60]
    trained = train_flags.train(rule, answers)
    assert trained.model.weights.shape == (MODEL_WEIGHTS,)
    assert trained.answers == sum(bool(a.sections["situation"]) for a in answers)
    assert 0 < trained.flagged < trained.answers


def _spoken_answers() -> list[str]:
    """By a fixed rule, not by how they fare: of the development answers espeak-ng speaks (CI has no Piper), the
    first strong one and the first two weak ones with a section left out, in story order."""
    espeak_ids = {p.answer.id for p in render.make_plan(ANSWERS) if p.voice != "joe"}
    espeak = [a for a in ANSWERS if a.id in espeak_ids and a.split == "dev"]
    strong = [a for a in espeak if a.variant == "strong"][:1]
    skipping = [a for a in espeak if a.variant == "weak" and not all(a.sections.values())][:2]
    return [a.id for a in strong + skipping]


SPOKEN = _spoken_answers()


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    assert render.main(["--out", str(out), "--only", *SPOKEN, "--jobs", "2"]) == 0
    return {r.answer: r for r in corpus.load_rendered(out)}


def test_spoken_answers_end_to_end(spoken, engine, catalogue, scenario):
    """Through Whisper and the whole analysis: sections where they were spoken, skipped ones missing, the
    labelled flags raised. Judged together, as the benchmark does: over the corpus about one boundary in ten
    is a sentence off (a unit given to its neighbour's section), which here can move a boundary by seconds,
    report a short section missing or find one that was skipped, and then raise a flag for it."""
    errors, presence_right, presence, missed_flags, extra_flags = [], 0, 0, [], []
    for answer_id in SPOKEN:
        rendered = spoken[answer_id]
        answer = next(a for a in ANSWERS if a.id == answer_id)
        chosen = scenario.model_copy(update={"principle": answer.principle})
        report = analyze_transcript(read_answer(rendered.audio, engine), chosen, answer.level, catalogue)
        for section in report.sections:
            truth = rendered.spans[section.timing.id]
            presence += 1
            presence_right += (truth is None) == (section.timing.status == "missing")
            if truth is not None and section.timing.start_s is not None:
                errors += [abs(section.timing.start_s - truth.start_s), abs(section.timing.end_s - truth.end_s)]
        raised = {f.id for f in report.flags} & CONTENT_FLAGS
        missed_flags += [(answer_id, f) for f in set(answer.flags) - raised]
        extra_flags += [(answer_id, f) for f in raised - set(answer.flags)]
    assert not missed_flags
    assert len(extra_flags) <= 1, extra_flags
    assert presence_right >= presence - 2
    errors.sort()
    assert errors[len(errors) // 2] <= 0.75, errors
    # The bar over the whole corpus is a 90th percentile of 2 s; three answers are too few for a
    # percentile, and one wrong unit in a short answer moves several boundaries. Most must be within 2 s.
    assert sum(e <= 2.0 for e in errors) >= 2 / 3 * len(errors), errors
