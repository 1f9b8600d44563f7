"""Follow-up probes, chosen like a bar raiser: from what the answer lacked."""

from __future__ import annotations

from dataclasses import dataclass

from mock_interview.analysis.patterns import SEVERITY_ORDER, Flag
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
