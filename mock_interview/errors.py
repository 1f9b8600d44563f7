"""Errors the user can act on. The CLI prints each as one line and exits with its code."""

from __future__ import annotations


class MockInterviewError(Exception):
    exit_code = 1


class InputError(MockInterviewError):
    """A scenario, level, rule file, option or input file is wrong."""

    exit_code = 2


class AudioError(MockInterviewError):
    """The audio is missing, unreadable, empty or silent."""

    exit_code = 3


class SetupError(MockInterviewError):
    """A model, device or system package the command needs is not available."""

    exit_code = 4


class Interrupted(MockInterviewError):
    """The user stopped the program (Ctrl-C)."""

    exit_code = 130
