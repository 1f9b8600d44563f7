"""Start-up time and peak memory, each against a baseline measured in the same run.

    .venv/bin/python benchmarks/startup_memory.py                   # both, as tables with their targets
    .venv/bin/python benchmarks/startup_memory.py --only startup    # seconds; the sessions take minutes
    .venv/bin/python benchmarks/startup_memory.py --runs 30 --format json

Start-up: `python -c pass`, `import typer.rich_utils` (the floor of a typer program with rich help pages; ours
are plain), `mock-interview --help` and `mock-interview mock --help`, run in turn (so a busy moment of the
machine slows them alike), --runs times each after one round that is not counted; the median and p90 wall time
of each, and its difference from and ratio to the bare interpreter. Target: a help page within 0.3 s of the
bare interpreter (median). The uncounted round writes the package's bytecode cache, as installing it does, so
PYTHONDONTWRITEBYTECODE is not passed on.

Peak memory: the kernel's peak resident set of the command and of every descendant it waited for (what
`/usr/bin/time -v` reports, read the same way); next to it, the total of the process tree sampled every
0.1 s (processes alive at the same time added up) and the child processes seen. Baselines: the bare
interpreter and `import numpy`. Sessions: `mock-interview demo` (the whole spoken mock session, recorded
answers playing the candidate through the capture code), then `mock` answered with the recordings that
session kept, once per transcription engine, its prompts spoken to ALSA's null device as in the demo.
Target: 600 MB for a session. An engine that does not run here is listed as skipped, with its error.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = str(Path(sys.executable).parent / "mock-interview")
STARTUP = {
    "python -c pass": [sys.executable, "-c", "pass"],
    # The floor of a typer program with rich help pages (ours are plain): the framework and its rich renderer.
    "python -c 'import typer.rich_utils'": [sys.executable, "-c", "import typer.rich_utils"],
    "mock-interview --help": [PROGRAM, "--help"],
    "mock-interview mock --help": [PROGRAM, "mock", "--help"],
}
BASELINE = "python -c pass"
HELP_TARGET_S = 0.3
MEMORY_TARGET_MB = 600.0
ENGINES = ("faster-whisper", "openai-whisper")
SAMPLE_S = 0.1
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def child_env(sessions: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "MOCK_INTERVIEW_DEBUG")}
    return env | {"MOCK_INTERVIEW_SESSIONS": str(sessions), "COLUMNS": "80"}


# ---- start-up -------------------------------------------------------------------------------------


def measure_startup(runs: int, env: dict[str, str]) -> list[dict]:
    times: dict[str, list[float]] = {name: [] for name in STARTUP}
    for counted in [False] + [True] * runs:
        for name, command in STARTUP.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
            if counted:
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times[BASELINE])
    rows = []
    for name, measured in times.items():
        median = statistics.median(measured)
        row = {
            "command": name,
            "runs": runs,
            "median_s": median,
            "p90_s": statistics.quantiles(measured, n=10, method="inclusive")[-1],
            "over_baseline_s": median - base,
            "ratio": median / base,
        }
        if name.startswith("mock-interview"):
            row |= {"target_over_baseline_s": HELP_TARGET_S, "met": median - base <= HELP_TARGET_S}
        rows.append(row)
    return rows


# ---- peak memory ------------------------------------------------------------------------------------


# Linux counts the parent's peak in a child's ru_maxrss when the child execs, so the benchmark's own memory
# would floor every row: a bare interpreter (about as big as `python -c pass`) forks the command instead and
# writes the command's rusage to a file, as /usr/bin/time does.
RUSAGE_OF = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def _descendants(root: int) -> dict[int, tuple[int, str]]:
    """ROOT's live descendants (not ROOT itself): pid to parent pid and name."""
    processes: dict[int, tuple[int, str]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
            processes[int(entry.name)] = (int(fields[1]), name)
    found: dict[int, tuple[int, str]] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, (parent, name) in processes.items():
            if parent == pid and child not in found:
                found[child] = (parent, name)
                frontier.append(child)
    return found


def _rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_MB
    except (OSError, IndexError):
        return 0.0


def peak_memory(name: str, command: list[str], env: dict[str, str], target_mb: float | None = None) -> dict:
    """Run COMMAND to its end; its peak memory, sampled tree total, child processes and wall time."""
    sampled = {"tree_mb": 0.0, "children": set()}
    with tempfile.TemporaryDirectory() as tmp:
        result, log = Path(tmp, "rusage"), Path(tmp, "stderr")
        start = time.perf_counter()
        with log.open("w") as stderr:
            helper = subprocess.Popen(
                [sys.executable, "-S", "-c", RUSAGE_OF, str(result), *command],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
            )  # fmt: skip
            done = threading.Event()

            def sample() -> None:
                while not done.wait(SAMPLE_S):
                    tree = _descendants(helper.pid)  # the command, and what it started
                    sampled["tree_mb"] = max(sampled["tree_mb"], sum(_rss_mb(pid) for pid in tree))
                    sampled["children"].update(name for parent, name in tree.values() if parent != helper.pid)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            helper.wait()
            done.set()
            sampler.join()
        wall = time.perf_counter() - start
        max_rss_kb, code = (int(v) for v in result.read_text().split())
        errors = [line for line in log.read_text().splitlines() if line.strip()]
    row = {"run": name, "command": command[1:] if command[0] == PROGRAM else command}
    if code != 0:
        return row | {"skipped": errors[-1] if errors else f"exit code {code}"}
    row |= {
        "peak_mb": max_rss_kb / 1024,
        "tree_sampled_mb": sampled["tree_mb"],
        "children": sorted(sampled["children"]),
        "wall_s": wall,
    }
    if target_mb is not None:
        row |= {"target_mb": target_mb, "met": row["peak_mb"] <= target_mb}
    return row


def demo_answers(sessions: Path) -> list[Path]:
    """The recordings the latest demo session kept, in the order they were asked for."""
    folder = max((p for p in sessions.iterdir() if p.name.endswith("-demo-dive-deep-webhook")), key=lambda p: p.name)
    manifest = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    return [folder / t["answer_audio"] for t in manifest["turns"] if t.get("answer_audio")]


def measure_memory(env: dict[str, str], sessions: Path, workdir: Path) -> list[dict]:
    from mock_interview.demo import file_backed_microphone

    rows = [
        peak_memory("python -c pass", [sys.executable, "-c", "pass"], env),
        peak_memory("python -c 'import numpy'", [sys.executable, "-c", "import numpy"], env),
    ]
    demo = peak_memory("mock-interview demo (faster-whisper)", [PROGRAM, "demo", "--format", "json"], env,
                       MEMORY_TARGET_MB)  # fmt: skip
    rows.append(demo)
    if "skipped" in demo:
        return rows
    # The demo's own ALSA set-up, for its null playback device: `mock` speaks its prompts as the demo does.
    file_backed_microphone(workdir)
    speaking_env = env | {"ALSA_CONFIG_PATH": os.environ["ALSA_CONFIG_PATH"]}
    answers = [arg for path in demo_answers(sessions) for arg in ("--answer-file", str(path))]
    for engine in ENGINES:
        if engine == "openai-whisper":
            # Its first use converts the bundled model: measured apart here, so the session's row is a session.
            rows.append(peak_memory("models convert (openai-whisper's first use)", [PROGRAM, "models", "convert"], env))
        command = [PROGRAM, "mock", "--engine", engine, *answers, "--format", "json"]
        rows.append(peak_memory(f"mock --engine {engine} (the demo's answers)", command, speaking_env,
                                MEMORY_TARGET_MB))  # fmt: skip
    return rows


# ---- output -------------------------------------------------------------------------------------------


def verdict(row: dict) -> str:
    return "" if "met" not in row else ("met" if row["met"] else "MISSED")


def print_tables(startup: list[dict] | None, memory: list[dict] | None, machine: dict) -> None:
    load = f"load average {machine['load_before']:.1f} before, {machine['load_after']:.1f} after"
    print(f"{machine['cpus']} CPUs; {load}")
    if startup is not None:
        print(f"\n== start-up: {startup[0]['runs']} runs each, in turn; bytecode cached ==")
        print(f"{'command':36} {'median s':>9} {'p90 s':>7} {'- python':>9} {'ratio':>6}  target")
        for r in startup:
            target = f"<= +{r['target_over_baseline_s']:.1f} s {verdict(r)}" if "met" in r else ""
            print(f"{r['command']:36} {r['median_s']:9.3f} {r['p90_s']:7.3f} {r['over_baseline_s']:+9.3f} "
                  f"{r['ratio']:5.1f}x  {target}")  # fmt: skip
    if memory is not None:
        base = next((r["peak_mb"] for r in memory if r["run"] == "python -c 'import numpy'"), 0.0)
        print("\n== peak memory: kernel peak of the process and its children; tree total sampled every 0.1 s ==")
        print(f"{'run':52} {'peak MB':>8} {'- numpy':>8} {'tree MB':>8} {'wall s':>7}  target")
        for r in memory:
            if "skipped" in r:
                print(f"{r['run']:52} skipped: {r['skipped']}")
                continue
            target = f"<= {r['target_mb']:.0f} MB {verdict(r)}" if "met" in r else ""
            print(f"{r['run']:52} {r['peak_mb']:8.0f} {r['peak_mb'] - base:+8.0f} {r['tree_sampled_mb']:8.0f} "
                  f"{r['wall_s']:7.1f}  {target}")  # fmt: skip
        children = sorted({c for r in memory for c in r.get("children", ())})
        print(f"descendant processes seen: {', '.join(children) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="start-up runs of each command (default 15)")
    parser.add_argument("--only", choices=("startup", "memory"), help="measure one of the two")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    # Timings on a busy machine are slower: the load says how busy it was.
    machine = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="mock-interview-bench-") as tmp:
        sessions, workdir = Path(tmp, "sessions"), Path(tmp, "alsa")
        sessions.mkdir()
        workdir.mkdir()
        env = child_env(sessions)
        startup = measure_startup(args.runs, env) if args.only != "memory" else None
        memory = measure_memory(env, sessions, workdir) if args.only != "startup" else None
    machine["load_after"] = os.getloadavg()[0]
    if args.format == "json":
        data = {"machine": machine, "startup": startup, "memory": memory}
        print(json.dumps({k: v for k, v in data.items() if v is not None}, indent=2))
    else:
        print_tables(startup, memory, machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
