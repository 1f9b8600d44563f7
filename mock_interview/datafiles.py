"""Reading the user's data files (scenarios, rules, transcripts): every problem is one line naming the file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from pydantic import ValidationError

from mock_interview.errors import InputError


def user_folders(given: list[Path], env_var: str) -> list[Path]:
    """Folders from the command line, then those in ENV_VAR (separated like PATH)."""
    env = os.environ.get(env_var, "")
    return [*given, *(Path(p) for p in env.split(os.pathsep) if p)]


def yaml_files(folder: Path, kind: str) -> list[Path]:
    """The yaml files in a user's folder, in name order; a missing folder is the user's error."""
    if not folder.is_dir():
        raise InputError(f"{folder}: {kind} folder does not exist")
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))


def read_text(path: Path, missing: str = "no such file") -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: {missing}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read as text: {err}") from None


def load_yaml(path: Path, missing: str = "no such file") -> object:
    try:
        return yaml.safe_load(read_text(path, missing))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(top level)"
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"{path}: {where}: not valid YAML: {problem}") from None


def load_json(path: Path, missing: str = "missing") -> object:
    try:
        return json.loads(read_text(path, missing))
    except ValueError as err:
        raise InputError(f"{path}: not valid JSON: {err}") from None


def _location(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        # Pydantic adds the validator kind for unions and '[key]' for dict keys; a dotted path reads better.
        if isinstance(part, str) and (part.startswith("function-") or part in ("", "[key]")):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def validation_error(path: Path, err: ValidationError) -> InputError:
    """The first problem as FILE: FIELD: WHAT, with a count of the others."""
    errors = err.errors()
    msg = errors[0]["msg"].removeprefix("Value error, ")
    msg = msg[:1].lower() + msg[1:]
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return InputError(f"{path}: {_location(errors[0]['loc'])}: {msg}{more}")
