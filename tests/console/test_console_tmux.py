"""The console in a real terminal (tmux), as a new user meets it with `make run`.

tmux is required: without it this test fails with the command that installs it, rather than
skipping and hiding that nobody tried the real terminal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_support import ROOT

pytestmark = pytest.mark.slow


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "console")

    def wait_for(self, text: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared on the terminal; last screen:\n{screen}")

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "console", *keys)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run `apt-get install -y tmux` (make test needs it for the real-terminal console test)")
    t = Tmux(f"gogrid-test-{os.getpid()}")
    try:
        yield t
    finally:
        subprocess.run(["tmux", "-L", t.socket, "kill-server"], capture_output=True, timeout=30)


def test_make_run_console_in_a_real_terminal(tmux: Tmux, tmp_path: Path) -> None:
    tui = Path(sys.executable).parent / "gogrid-tui"
    status = tmp_path / "status"
    # What `make run` runs, then a record of how the terminal was left.
    script = (
        f"cd {ROOT} && env -u GOGRID_DEMO_PACE_MS GOGRID_DB={tmp_path / 'db.duckdb'} TERM=xterm-256color {tui} sample_configs/demo.yaml; "
        f"echo exit=$? > {status}; stty -a >> {status}; echo CONSOLE-CLOSED; sleep 60"
    )
    tmux("new-session", "-d", "-s", "console", "-x", "100", "-y", "30", script)
    screen = tmux.wait_for("q Quit")
    for hint in ("a Agents", "b Budget", "t Trace", "s SQL", "k Kill", "? Help"):
        assert hint in screen, f"footer hint {hint!r} missing:\n{screen}"
    tmux.wait_for("succeeded")  # the demo run finished on the simulated model
    tmux.keys("t")
    tmux.wait_for("Traces [")
    tmux.keys("b")
    tmux.wait_for("Budgets [")
    tmux.wait_for("$0.3000")  # the demo's run budget, filling
    tmux.keys("k")  # kill the run from the budgets view: it asks first, naming what stops
    screen = tmux.wait_for("This stops")
    assert "Kill run demo?" in screen and "live agent(s)" in screen, screen
    tmux.keys("y")
    tmux.wait_for("killed")
    tmux.keys("?")
    tmux.wait_for("GoGrid console - keys")
    tmux.keys("Escape")  # alone: an Escape followed at once by a key reads as Alt+key
    time.sleep(0.5)
    tmux.keys("r")
    tmux.wait_for("Launch")
    tmux.keys("a")
    tmux.wait_for("Agents [")
    tmux.keys("q")
    tmux.wait_for("CONSOLE-CLOSED", timeout=60)
    record = status.read_text()
    assert record.startswith("exit=0"), record
    # The terminal is sane again: canonical mode and echo back on, alternate screen left.
    assert " icanon" in record and " echo " in record, record
    assert tmux("display-message", "-p", "-t", "console", "#{alternate_on}").strip() == "0"
