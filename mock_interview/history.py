"""The history index: one SQLite row per session, so progress over many sessions reads one file.

The session folders are the truth; the index (`<sessions>/history.sqlite3`) is rebuilt from them
at any time. It is brought up to date when a session ends and whenever history is read: a folder
that is new or changed since it was indexed is read again, a folder that is gone leaves the index,
and a damaged one is reported and skipped. Several programs may finish sessions at once: the
index is in WAL mode, each write is one immediate transaction, and a writer waits its turn.

The schema is versioned with `PRAGMA user_version`; MIGRATIONS[n] takes version n to n + 1.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from mock_interview.errors import InputError
from mock_interview.report.model import read_report
from mock_interview.store import MANIFEST, read_manifest, session_folders

INDEX = "history.sqlite3"
REPORT = "report.json"
BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another to finish before giving up
SAME_DISTANCE = 0.05  # a section's distance from its target, as a share of it, that counts as no change

MIGRATIONS = (
    # 1: sessions, their section times and their flag counts.
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        mode TEXT NOT NULL,
        scenario TEXT NOT NULL,
        level TEXT NOT NULL,
        started_at TEXT NOT NULL,
        status TEXT NOT NULL,
        duration_s REAL,
        verdict TEXT,
        changed_ns INTEGER NOT NULL  -- when its files last changed: a different value means read it again
    );
    CREATE INDEX sessions_by_start ON sessions (started_at);
    CREATE TABLE section_times (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        section TEXT NOT NULL,
        duration_s REAL,
        target_s REAL NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (session_id, section)
    );
    CREATE TABLE flag_counts (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        flag TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (session_id, flag)
    );
    """,
    # 2: how the follow-up answers were judged. Rows indexed before have no such counts: they are
    # marked changed so that the next sync reads them again from their folders.
    """
    ALTER TABLE sessions ADD COLUMN probes_strong INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN probes_mixed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN probes_weak INTEGER NOT NULL DEFAULT 0;
    UPDATE sessions SET changed_ns = -1;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class SectionTime:
    id: str
    duration_s: float | None
    target_s: float
    status: str


@dataclass(frozen=True)
class SessionSummary:
    """What the history keeps of one session."""

    id: str
    mode: str
    scenario: str
    level: str
    started_at: str
    status: str
    duration_s: float | None = None
    verdict: str | None = None  # None: the session has no report (study, or stopped before one)
    sections: tuple[SectionTime, ...] = ()
    flags: dict[str, int] = field(default_factory=dict)  # flag id -> times raised
    probes_strong: int = 0
    probes_mixed: int = 0
    probes_weak: int = 0

    @property
    def has_report(self) -> bool:
        return self.verdict is not None


@dataclass(frozen=True)
class Skipped:
    """A folder the history could not use, and why."""

    id: str
    reason: str


@dataclass(frozen=True)
class History:
    sessions: tuple[SessionSummary, ...]  # oldest first
    skipped: tuple[Skipped, ...]  # damaged folders, and indexed sessions whose folder is gone


def summarize(folder: Path) -> SessionSummary:
    """Read a session folder into its summary; InputError when its manifest or report is damaged."""
    manifest = read_manifest(folder)
    base = SessionSummary(
        manifest.id, manifest.mode, manifest.scenario, manifest.level, manifest.started_at, manifest.status
    )
    if not (folder / REPORT).exists():
        return base
    report = read_report(folder / REPORT)
    judged = Counter(a.judgement.label for a in report.probe_answers.values())
    return replace(
        base,
        duration_s=round(report.duration_s, 2),
        verdict=report.verdict.label,
        sections=tuple(
            SectionTime(s.timing.id, s.timing.duration_s, s.timing.target_s, s.timing.status) for s in report.sections
        ),
        flags=dict(Counter(f.id for f in report.flags)),
        probes_strong=judged["strong"],
        probes_mixed=judged["mixed"],
        probes_weak=judged["weak"],
    )


def _changed_ns(folder: Path) -> int:
    """When the files the summary is read from last changed."""
    stamps = [(folder / name).stat().st_mtime_ns for name in (MANIFEST, REPORT) if (folder / name).exists()]
    return max(stamps, default=0)


def index_path(root: Path) -> Path:
    return root / INDEX


def _problem(path: Path, e: sqlite3.DatabaseError) -> InputError:
    if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
        return InputError(f"{path}: the history index stayed locked by another mock-interview for too long; try again")
    return InputError(
        f"{path}: the history index is damaged ({e}); rebuild it from the session folders with "
        "`mock-interview history --rebuild`"
    )


@contextmanager
def _index(root: Path) -> Iterator[sqlite3.Connection]:
    """The index of ROOT, created or migrated to the current schema; readable by the user only."""
    path = index_path(root)
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # SQLite gives its -wal and -shm files this mode
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except OSError as e:
        raise InputError(f"{path}: cannot open the history index: {e.strerror}") from None
    except sqlite3.DatabaseError as e:
        raise _problem(path, e) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _set_wal(conn)
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, path)
        yield conn
    except sqlite3.DatabaseError as e:
        raise _problem(path, e) from None
    finally:
        conn.close()


def _set_wal(conn: sqlite3.Connection) -> None:
    """Write-ahead logging, so readers never wait. Switching to it takes the whole file, and SQLite answers
    "locked" at once, without its busy wait, when programs opening a new index switch together: try again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write at a time across programs: IMMEDIATE takes the write lock first, or waits for it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    with _transaction(conn):  # one program migrates; the others wait, then find it done
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(
                f"{path}: the history index was written by a newer mock-interview (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); rebuild it with `mock-interview history --rebuild`"
            )
        for step in MIGRATIONS[version:]:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _write(conn: sqlite3.Connection, s: SessionSummary, changed_ns: int) -> None:
    conn.execute("DELETE FROM sessions WHERE id = ?", (s.id,))
    conn.execute(
        "INSERT INTO sessions (id, mode, scenario, level, started_at, status, duration_s, verdict, changed_ns,"
        " probes_strong, probes_mixed, probes_weak) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (s.id, s.mode, s.scenario, s.level, s.started_at, s.status, s.duration_s, s.verdict, changed_ns,
         s.probes_strong, s.probes_mixed, s.probes_weak),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO section_times (session_id, position, section, duration_s, target_s, status)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(s.id, i, t.id, t.duration_s, t.target_s, t.status) for i, t in enumerate(s.sections)],
    )
    conn.executemany(
        "INSERT INTO flag_counts (session_id, flag, count) VALUES (?, ?, ?)",
        [(s.id, flag, count) for flag, count in s.flags.items()],
    )


def record(root: Path, folder: Path) -> SessionSummary:
    """Index one session, as it ends."""
    changed = _changed_ns(folder)
    summary = summarize(folder)
    with _index(root) as conn, _transaction(conn):
        _write(conn, summary, changed)
    return summary


def forget(root: Path, session_id: str) -> None:
    """Take a deleted session out of the index."""
    with _index(root) as conn, _transaction(conn):
        conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


def sync(root: Path, rebuild: bool = False) -> History:
    """Bring the index up to date with the folders (all of them read again with REBUILD) and read it."""
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{index_path(root)}{suffix}").unlink(missing_ok=True)
    with _index(root) as conn:
        indexed = dict(conn.execute("SELECT id, changed_ns FROM sessions").fetchall())
        fresh: list[tuple[SessionSummary, int]] = []
        skipped: list[Skipped] = []
        present = set()
        for folder in session_folders(root):
            present.add(folder.name)
            changed = _changed_ns(folder)
            if indexed.get(folder.name) == changed:
                continue
            try:
                fresh.append((summarize(folder), changed))
            except InputError as e:
                skipped.append(Skipped(folder.name, str(e)))
        damaged = [s.id for s in skipped]
        gone = sorted(set(indexed) - present)
        skipped += [Skipped(g, "the session folder is gone; removed from the index") for g in gone]
        if fresh or gone or damaged:
            with _transaction(conn):
                for summary, changed in fresh:
                    _write(conn, summary, changed)
                conn.executemany("DELETE FROM sessions WHERE id = ?", [(i,) for i in gone + damaged])
        return History(_read(conn), tuple(skipped))


def _read(conn: sqlite3.Connection) -> tuple[SessionSummary, ...]:
    sections: dict[str, list[SectionTime]] = {}
    for sid, section, duration, target, status in conn.execute(
        "SELECT session_id, section, duration_s, target_s, status FROM section_times ORDER BY session_id, position"
    ):
        sections.setdefault(sid, []).append(SectionTime(section, duration, target, status))
    flags: dict[str, dict[str, int]] = {}
    for sid, flag, count in conn.execute("SELECT session_id, flag, count FROM flag_counts ORDER BY flag"):
        flags.setdefault(sid, {})[flag] = count
    rows = conn.execute(
        "SELECT id, mode, scenario, level, started_at, status, duration_s, verdict,"
        " probes_strong, probes_mixed, probes_weak FROM sessions ORDER BY started_at, id"
    )
    # A row is the summary's first eight fields, then the three follow-up counts.
    return tuple(
        SessionSummary(*row[:8], tuple(sections.get(row[0], ())), flags.get(row[0], {}), *row[8:]) for row in rows
    )


# ---- trends -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionTrend:
    """One STAR section over the sessions with a report: earlier ones on average against the latest."""

    id: str
    earlier_s: float | None  # mean duration over the earlier sessions that reached the section
    earlier_target_s: float | None
    latest_s: float | None  # None: the latest answer missed the section
    latest_target_s: float
    movement: str | None  # closer, further or same: the latest against its target, next to the earlier mean


def _movement(
    earlier_s: float | None, earlier_target_s: float | None, latest_s: float | None, target_s: float
) -> str | None:
    if earlier_s is None or earlier_target_s is None or latest_s is None:
        return None
    change = abs(latest_s / target_s - 1) - abs(earlier_s / earlier_target_s - 1)
    if abs(change) < SAME_DISTANCE:
        return "same"
    return "closer" if change < 0 else "further"


@dataclass(frozen=True)
class FlagTrend:
    id: str
    earlier: int  # how many of the earlier sessions raised it
    earlier_of: int
    latest: int  # how many times the latest session raised it


@dataclass(frozen=True)
class Trends:
    reports: int  # sessions with a report, the ones trends are read from
    sections: tuple[SectionTrend, ...]
    flags: tuple[FlagTrend, ...]


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def trends(sessions: tuple[SessionSummary, ...]) -> Trends:
    reported = [s for s in sessions if s.has_report]
    if not reported:
        return Trends(0, (), ())
    *earlier, latest = reported
    section_trends = []
    for t in latest.sections:
        before = [x for s in earlier for x in s.sections if x.id == t.id and x.duration_s is not None]
        earlier_s = _mean([x.duration_s for x in before if x.duration_s is not None])
        earlier_target_s = _mean([x.target_s for x in before])
        movement = _movement(earlier_s, earlier_target_s, t.duration_s, t.target_s)
        section_trends.append(SectionTrend(t.id, earlier_s, earlier_target_s, t.duration_s, t.target_s, movement))
    flag_ids = sorted({f for s in reported for f in s.flags})
    flag_trends = tuple(
        FlagTrend(f, sum(1 for s in earlier if f in s.flags), len(earlier), latest.flags.get(f, 0)) for f in flag_ids
    )
    return Trends(len(reported), tuple(section_trends), flag_trends)
