"""The voice never leaves the machine: `analyze` works with every network connection refused."""

from __future__ import annotations

import textwrap

from conftest import FIXTURES, run_cli

GUARD = textwrap.dedent(
    """
    import os
    import socket

    class NetworkBlocked(OSError):
        pass

    def _record(what):
        # Every attempt is written down, so one that the program swallowed still fails the test.
        with open(os.environ["NETWORK_ATTEMPTS_LOG"], "a") as log:
            print(what, file=log)
        raise NetworkBlocked(what)

    def _refuse(self, address, *args, **kwargs):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _record(f"network access attempted: {address}")
        return _connect(self, address, *args, **kwargs)

    def _no_lookup(host, *args, **kwargs):
        _record(f"name lookup attempted: {host}")

    _connect = socket.socket.connect
    socket.socket.connect = _refuse
    socket.socket.connect_ex = _refuse
    socket.getaddrinfo = _no_lookup
    open(os.environ["NETWORK_ATTEMPTS_LOG"] + ".active", "w").close()
    """
)


def _guarded_env(tmp_path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(GUARD)
    # HF_HUB_OFFLINE cleared: the program itself must keep the model loader off the network.
    return {"PYTHONPATH": str(tmp_path), "NETWORK_ATTEMPTS_LOG": str(tmp_path / "attempts.log"), "HF_HUB_OFFLINE": ""}


def test_guard_really_blocks(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, **_guarded_env(tmp_path)}
    probe = "import socket; s = socket.socket(); s.settimeout(1); s.connect(('127.0.0.1', 9))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert proc.returncode != 0 and "network access attempted" in proc.stderr
    assert "127.0.0.1" in (tmp_path / "attempts.log").read_text()


def test_analyze_audio_offline(tmp_path):
    run = run_cli("analyze", str(FIXTURES / "weak-joe.flac"), "--format", "json", env=_guarded_env(tmp_path))
    assert run.code == 0, run.stderr
    assert {"handoff", "unverified"} <= {f["id"] for f in run.json()["flags"]}
    attempts = tmp_path / "attempts.log"
    assert (tmp_path / "attempts.log.active").exists(), "the guard did not load in the child process"
    assert not attempts.exists(), attempts.read_text()
