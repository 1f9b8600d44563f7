"""Follow-up probes, chosen like a bar raiser: from what the answer lacked."""

from __future__ import annotations

from dataclasses import dataclass

from mock_interview.analysis.patterns import SEVERITY_ORDER, Flag
from mock_interview.analysis.star import content_stems
from mock_interview.analysis.transcript import normalize
from mock_interview.scenario import Probe, Scenario

DEFAULT_PROBES = 3


@dataclass(frozen=True)
class ProbeChoice:
    probe: Probe
    triggered_by: tuple[str, ...]  # flag ids of the answer that this probe follows up on; empty: scenario order


def choose_probes(scenario: Scenario, flags: list[Flag], count: int = DEFAULT_PROBES) -> list[ProbeChoice]:
    """Probes whose target flags the answer raised come first, the most severe gap first; then scenario order."""
    raised = {f.id: SEVERITY_ORDER[f.severity] for f in flags}

    def rank(item: tuple[int, Probe]) -> tuple[int, int, int]:
        position, probe = item
        hits = [raised[t] for t in probe.targets if t in raised]
        return (0 if hits else 1, min(hits) if hits else 3, position)

    ordered = sorted(enumerate(scenario.probes), key=rank)
    chosen = [ProbeChoice(p, tuple(t for t in p.targets if t in raised)) for _, p in ordered[: max(0, count)]]
    return chosen


# A probe answer is strong when it covers this share of the strong answer's content words
# and raises none of the flags the probe follows up on.
STRONG_COVERAGE = 0.25
THIN_WORDS = 12  # fewer words than this cannot carry a specific answer


@dataclass(frozen=True)
class ProbeJudgement:
    label: str  # strong, mixed or weak
    reasons: tuple[str, ...]
    flags: tuple[Flag, ...]  # the probe's target flags that the answer raised
    strong_coverage: float  # share of the strong answer's content words said
    weak_coverage: float
    said: tuple[str, ...]  # the strong answer's content words that were said


def judge_probe_answer(probe: Probe, text: str, flags: list[Flag]) -> ProbeJudgement:
    """Judge an answer to PROBE against its weak and strong answers; FLAGS are the answer's own flags."""
    answer = set(content_stems(text))
    # Each content word of the strong answer, by stem, kept as it is written there for the reasons.
    strong_words: dict[str, str] = {}
    for word in f"{probe.strong.answer} {probe.key_quote}".split():
        for word_stem in content_stems(word):
            strong_words.setdefault(word_stem, normalize(word))
    weak_words = set(content_stems(probe.weak.answer))
    said = tuple(written for word_stem, written in strong_words.items() if word_stem in answer)
    strong_coverage = len(said) / len(strong_words) if strong_words else 0.0
    weak_coverage = len(answer & weak_words) / len(weak_words) if weak_words else 0.0
    raised = tuple(f for f in flags if f.id in probe.targets)
    reasons: list[str] = []
    for f in raised:
        quote = f"'{f.evidence[0].quote}'" if f.evidence else ""
        reasons.append(f"{f.message} {quote}".strip())
    words = len(text.split())
    if words < THIN_WORDS:
        reasons.append(f"Only {words} words: too thin to show {probe.assesses.rstrip('.').lower()}.")
    if said:
        reasons.append(f"Covers {strong_coverage:.0%} of the strong answer ({', '.join(said[:8])}).")
    else:
        reasons.append("Says none of what the strong answer says.")
    if raised or (weak_coverage > strong_coverage and strong_coverage < STRONG_COVERAGE):
        label = "weak" if not said or strong_coverage < STRONG_COVERAGE else "mixed"
    elif strong_coverage >= STRONG_COVERAGE and words >= THIN_WORDS:
        label = "strong"
    else:
        label = "mixed"
    if label != "strong":
        reasons.append(f"A strong answer: “{probe.key_quote}”")
    return ProbeJudgement(label, tuple(reasons), raised, round(strong_coverage, 2), round(weak_coverage, 2), said)
