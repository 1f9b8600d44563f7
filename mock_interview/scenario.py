"""Scenario files: the model of one interview question, loading and validation.

A scenario is one yaml file. Everything the seed page holds about a question
lives here: targets, examples, coaching, probes, the weak answer, the quiz,
leadership-principle emphasis and level expectations. A broken file is reported
as one line naming the file, the field and what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mock_interview.datafiles import load_yaml, user_folders, validation_error, yaml_files
from mock_interview.errors import InputError

SECTION_IDS: tuple[str, ...] = ("situation", "task", "action", "result", "reflection")
LEVEL_IDS: tuple[str, ...] = ("sde1", "sde2", "senior")
SCENARIOS_ENV = "MOCK_INTERVIEW_SCENARIOS"

SectionId = Literal["situation", "task", "action", "result", "reflection"]
LevelId = Literal["sde1", "sde2", "senior"]
FlagId = str
# Amazon's sixteen Leadership Principles, as a scenario names them.
PRINCIPLES: tuple[str, ...] = (
    "Customer Obsession", "Ownership", "Invent and Simplify", "Are Right, A Lot", "Learn and Be Curious",
    "Hire and Develop the Best", "Insist on the Highest Standards", "Think Big", "Bias for Action", "Frugality",
    "Earn Trust", "Dive Deep", "Have Backbone; Disagree and Commit", "Deliver Results",
    "Strive to be Earth's Best Employer", "Success and Scale Bring Broad Responsibility",
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(_Strict):
    id: SectionId
    target_s: float = Field(gt=0, description="Target length of this section in seconds at the sde2 level.")
    strong_example: str | None = Field(
        default=None, description="A strong version of this section, spoken in study mode."
    )
    signals: list[str] = Field(
        default_factory=list, description="Phrases that mark a strong section; also a cue for segmentation."
    )
    coaching: str
    common_mistake: str


class ProbeAnswer(_Strict):
    answer: str
    why: str | None = Field(default=None, description="Why this answer is weak or strong.")


class Probe(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    question: str
    assesses: str = Field(description="What the probe tests, e.g. 'Technical rigor and validation.'")
    weak: ProbeAnswer
    strong: ProbeAnswer
    key_quote: str = Field(description="The line a strong answer boils down to.")
    targets: list[FlagId] = Field(
        min_length=1, description="Flag ids this probe follows up on: it is asked when the answer raised them."
    )


class WeakAnswer(_Strict):
    text: str
    flagged_phrases: list[str] = Field(min_length=1)
    missing: list[str] = Field(default_factory=list, description="What the answer lacks, in words.")
    bar_raiser: str = Field(description="What the bar raiser thinks of it.")
    expected_flags: list[FlagId] = Field(
        min_length=1, description="Flags the analysis must raise when this answer is spoken."
    )


class QuizQuestion(_Strict):
    question: str
    options: list[str] = Field(min_length=2)
    answer: int = Field(ge=0, description="Index (from 0) of the correct option.")
    explanation: str

    @model_validator(mode="after")
    def _answer_in_range(self) -> QuizQuestion:
        if self.answer >= len(self.options):
            raise ValueError(f"answer {self.answer} is not an index of options (0-{len(self.options) - 1})")
        return self


class PrincipleEmphasis(_Strict):
    name: str
    focus: str
    emphasize: str
    downplay: str


class Level(_Strict):
    title: str
    focus: str
    reflection: str = Field(description="What the reflection is expected to show at this level.")
    bar: str
    budget_s: float = Field(gt=0, description="Longest comfortable whole answer, in seconds.")
    budget_min_s: float | None = Field(default=None, gt=0, description="Shortest comfortable whole answer.")
    example_reflection: str | None = Field(default=None, description="A strong reflection at this level.")


class Scenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    principle: str = Field(description="The leadership principle the question tests.")
    question: str
    overview: str
    takeaways: str
    sections: list[Section]
    probes: list[Probe] = Field(min_length=1)
    weak_answer: WeakAnswer
    quiz: list[QuizQuestion] = Field(min_length=1)
    principles: list[PrincipleEmphasis] = Field(min_length=1)
    levels: dict[LevelId, Level]

    @property
    def signal_count(self) -> int:
        """How many strong-answer signal phrases the sections list in all."""
        return sum(len(s.signals) for s in self.sections)

    @field_validator("sections")
    @classmethod
    def _five_sections_in_order(cls, sections: list[Section]) -> list[Section]:
        ids = tuple(s.id for s in sections)
        if ids != SECTION_IDS:
            raise ValueError(f"must be exactly {', '.join(SECTION_IDS)} in that order, got {', '.join(ids) or 'none'}")
        return sections

    @field_validator("levels")
    @classmethod
    def _all_levels(cls, levels: dict[str, Level]) -> dict[str, Level]:
        missing = [lvl for lvl in LEVEL_IDS if lvl not in levels]
        if missing:
            raise ValueError(f"missing level {', '.join(missing)}")
        return levels

    @field_validator("probes")
    @classmethod
    def _unique_probe_ids(cls, probes: list[Probe]) -> list[Probe]:
        ids = [p.id for p in probes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate id {', '.join(dupes)}")
        return probes

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    @property
    def total_target_s(self) -> float:
        return sum(s.target_s for s in self.sections)

    def target_s(self, section_id: str, level: str) -> float:
        """A section's target at a level: the sde2 targets scaled to the level's budget."""
        return self.section(section_id).target_s * self.levels[level].budget_s / self.total_target_s


def find_principle(name: str) -> str:
    """A principle by its name, ignoring case and punctuation ('dive deep', 'have backbone')."""

    def key(text: str) -> str:
        return re.sub(r"[^a-z ]", "", text.lower()).strip()

    wanted = key(name)
    matches = [p for p in PRINCIPLES if key(p) == wanted] or [
        p
        for p in PRINCIPLES
        if f" {wanted}" in f" {key(p)}"  # the start of a word in the name: 'backbone', 'frugal'
    ]
    if wanted and len(matches) == 1:
        return matches[0]
    if wanted and matches:
        raise InputError(f"'{name}' could be any of: {'; '.join(matches)}; say which")
    raise InputError(f"unknown leadership principle '{name}' (known: {', '.join(PRINCIPLES)})")


def parse_scenario(data: object, path: Path, known_flags: set[str] | None = None) -> Scenario:
    if not isinstance(data, dict):
        raise InputError(f"{path}: (top level): expected a mapping of fields, got {type(data).__name__}")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise validation_error(path, err) from None
    if known_flags is not None:
        for i, probe in enumerate(scenario.probes):
            for flag in probe.targets:
                if flag not in known_flags:
                    raise InputError(f"{path}: probes[{i}].targets: unknown flag id '{flag}'")
        for flag in scenario.weak_answer.expected_flags:
            if flag not in known_flags:
                raise InputError(f"{path}: weak_answer.expected_flags: unknown flag id '{flag}'")
    return scenario


def load_scenario_file(path: Path, known_flags: set[str] | None = None) -> Scenario:
    return parse_scenario(load_yaml(path, "no such scenario file"), path, known_flags)


def builtin_scenario_dir() -> Path:
    """Scenarios shipped with the program: inside the wheel, or the repository's scenarios/ folder."""
    packaged = Path(__file__).parent / "scenarios"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "scenarios"


def scenario_files(user_dir: Path | None = None) -> list[Path]:
    """Scenario files, the user's folders first so that their files override built-ins by id."""
    folders = user_folders([user_dir] if user_dir else [], SCENARIOS_ENV) + [builtin_scenario_dir()]
    return [path for folder in folders for path in yaml_files(folder, "scenario")]


def load_scenarios(user_dir: Path | None = None, known_flags: set[str] | None = None) -> dict[str, Scenario]:
    """Every scenario by id; the first folder that defines an id wins."""
    found: dict[str, Scenario] = {}
    for path in scenario_files(user_dir):
        scenario = load_scenario_file(path, known_flags)
        found.setdefault(scenario.id, scenario)
    return found


def find_scenario(scenario_id: str, user_dir: Path | None = None, known_flags: set[str] | None = None) -> Scenario:
    as_path = Path(scenario_id)
    if as_path.suffix in (".yaml", ".yml"):
        return load_scenario_file(as_path, known_flags)
    scenarios = load_scenarios(user_dir, known_flags)
    if scenario_id not in scenarios:
        known = ", ".join(sorted(scenarios)) or "none"
        raise InputError(f"unknown scenario '{scenario_id}' (known: {known})")
    return scenarios[scenario_id]


def pick_for_principle(scenarios: Iterable[Scenario], principle: str, practised: Mapping[str, int]) -> Scenario:
    """The scenario for PRINCIPLE practised least so far (PRACTISED: scenario id -> sessions), ties by id."""
    mine = sorted((s for s in scenarios if s.principle == principle), key=lambda s: (practised.get(s.id, 0), s.id))
    if not mine:
        raise InputError(f"no scenario for {principle} (see `mock-interview scenarios list`)")
    return mine[0]


def pick_principles(scenarios: Iterable[Scenario], practised: Mapping[str, int], count: int) -> list[str]:
    """COUNT principles for a loop, the least practised first, so that loops in turn go round all of them."""
    sessions: dict[str, int] = {}
    for s in scenarios:
        sessions[s.principle] = sessions.get(s.principle, 0) + practised.get(s.id, 0)
    order = {p: i for i, p in enumerate(PRINCIPLES)}
    return sorted(sessions, key=lambda p: (sessions[p], order.get(p, len(order)), p))[:count]


def json_schema() -> str:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "mock-interview/scenario/v1"
    return json.dumps(schema, indent=2) + "\n"
