"""The command line: parses, calls the stages, prints. Every user error is one line and an exit code.

Exit codes: 0 ok, 1 unexpected failure, 2 bad input (scenario, level, option, file),
3 unusable audio (unreadable, empty, silent, no speech), 4 missing setup (model,
device, system package), 130 interrupted.
"""

from __future__ import annotations

import enum
import io
import json
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from mock_interview import __version__
from mock_interview.errors import InputError, MockInterviewError

if TYPE_CHECKING:
    from mock_interview.analysis.transcript import Transcript
    from mock_interview.speech.transcribe import Engine

app = typer.Typer(
    name="mock-interview",
    help="Practise behavioural interviews out loud: STAR timing, weak-answer flags and bar-raiser probes, "
    "all on your own machine.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
scenarios_app = typer.Typer(help="The scenario bank: list, show and validate scenario files.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
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


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
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
    with err.status(message, spinner="dots"):
        return work()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(f"{output}: cannot write: {e.strerror}") from None
    err.print(f"wrote {output}")


def _version(value: bool) -> None:
    if value:
        out.print(f"mock-interview {__version__}")
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


@app.command()
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
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", metavar="ID|FILE", help="Scenario id, or a path to a scenario yaml file.")
    ] = "dive-deep-webhook",
    level: Annotated[Level, typer.Option("--level", "-l", help="Sets the time budget and the bar.")] = Level.sde2,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="text for people, json for programs (report v1), markdown for notes."),
    ] = Format.text,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file.", show_default=False),
    ] = None,
    model: Annotated[
        str,
        typer.Option(metavar="NAME|DIR", help="Whisper model: the bundled 'tiny.en' or a CTranslate2 model folder."),
    ] = "tiny.en",
    engine: Annotated[str, typer.Option(metavar="NAME", help="Transcription engine.")] = "faster-whisper",
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
        from mock_interview.scenario import find_scenario

        catalogue = load_catalogue(rules or ())
        chosen = find_scenario(scenario, scenarios_dir, catalogue.ids)
        transcriber = None
        if is_audio(file) and file.is_file():
            from mock_interview.speech.transcribe import load_engine

            transcriber = _with_status(f"Loading Whisper {model} ({engine})…", lambda: load_engine(engine, model))
        transcript = _read_with_progress(file, transcriber)
        report = analyze_transcript(
            transcript, chosen, level.value, catalogue, probes, engine=f"{engine} {model}" if transcriber else None
        )
        if fmt is Format.json:
            _write(report.to_json(), output)
        elif fmt is Format.markdown:
            from mock_interview.report.markdown import render as render_markdown

            _write(render_markdown(report), output)
        else:
            from mock_interview.report.terminal import render as render_terminal

            console = out if output is None else Console(record=True, width=110, file=io.StringIO())
            render_terminal(report, console)
            if output is not None:
                _write(console.export_text(), output)


def _read_with_progress(file: Path, transcriber: Engine | None) -> Transcript:
    """The answer's transcript; audio shows a progress bar on stderr while Whisper works."""
    from mock_interview.analyze import read_answer

    if transcriber is None:
        return read_answer(file)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("Transcribing"),
        BarColumn(),
        TextColumn("{task.fields[label]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("transcribe", total=None, label="")

        def update(done: float, total: float) -> None:
            progress.update(task, completed=done, total=total, label=f"{done:.0f}/{total:.0f} s of audio")

        return read_answer(file, transcriber, update)


@scenarios_app.command("list")
def scenarios_list(
    scenarios_dir: ScenariosDir = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.text,
) -> None:
    """List the scenarios: built-in ones and those in your folder."""
    with _user_errors():
        from rich.table import Table

        from mock_interview.scenario import load_scenarios

        found = load_scenarios(scenarios_dir)
        if fmt is ListFormat.json:
            rows = [{"id": s.id, "principle": s.principle, "question": s.question} for s in found.values()]
            sys.stdout.write(json.dumps(rows, indent=2) + "\n")
            return
        table = Table("id", "principle", "question")
        for s in found.values():
            table.add_row(s.id, s.principle, s.question)
        out.print(table)


@scenarios_app.command("show")
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
        out.print(f"[bold]{escape(s.principle)}: {escape(s.title)}[/]\n{escape(s.question)}\n\n{escape(s.overview)}\n")
        for sec in s.sections:
            out.print(f"[bold]{escape(sec.id.capitalize())}[/] · target {sec.target_s:.0f} s")
            if sec.strong_example:
                out.print(f"  Strong: {escape(sec.strong_example)}")
            out.print(f"  Signals: {escape(', '.join(sec.signals))}")
            out.print(f"  [green]Coaching:[/] {escape(sec.coaching)}")
            out.print(f"  [yellow]Common mistake:[/] {escape(sec.common_mistake)}\n")
        out.print("[bold]Follow-up probes[/]")
        for p in s.probes:
            out.print(
                f"  • {escape(p.question)} [dim](probes: {escape(p.assesses)} Follows up on {', '.join(p.targets)}.)[/]"
            )
            out.print(f"    [red]Weak:[/] {escape(p.weak.answer)} [dim]{escape(p.weak.why or '')}[/]")
            out.print(f"    [green]Strong:[/] {escape(p.strong.answer)} [dim]“{escape(p.key_quote)}”[/]")
        out.print(f"\n[bold]Weak answer[/]: {escape(s.weak_answer.text)}")
        for phrase in s.weak_answer.flagged_phrases:
            out.print(f"  [red]✗[/] {escape(phrase)}")
        out.print(f"[red]Bar raiser thinks:[/] {escape(s.weak_answer.bar_raiser)}\n")
        out.print("[bold]Quiz[/]")
        for q in s.quiz:
            out.print(f"  {escape(q.question)}")
            for i, option in enumerate(q.options):
                mark = "[green]✓[/]" if i == q.answer else " "
                out.print(f"   {mark} {chr(ord('a') + i)}) {escape(option)}")
            out.print(f"    [dim]{escape(q.explanation)}[/]")
        out.print("\n[bold]Leadership principles[/]")
        for lp in s.principles:
            out.print(f"  {escape(lp.name)}: {escape(lp.focus)}")
            out.print(
                f"    [green]Emphasize:[/] {escape(lp.emphasize)}\n    [yellow]Downplay:[/] {escape(lp.downplay)}"
            )
        out.print("\n[bold]Levels[/]")
        for name, lvl in s.levels.items():
            span = f"{lvl.budget_min_s:.0f}-{lvl.budget_s:.0f}" if lvl.budget_min_s else f"up to {lvl.budget_s:.0f}"
            out.print(f"  {escape(lvl.title)} ({name}), {span} s: {escape(lvl.focus)}")
            out.print(f"    Bar: {escape(lvl.bar)}\n    Reflection: {escape(lvl.reflection)}")


@scenarios_app.command("validate")
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
            out.print(
                f"[green]ok[/] {path}: {s.id} ({s.principle}), {len(s.probes)} probes, {len(s.quiz)} quiz questions"
            )


@scenarios_app.command("schema")
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
