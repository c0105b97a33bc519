"""Detached service processes started by earlylink, tracked by pid files in the state folder.

``stop`` only ever signals a process whose pid file we wrote and whose command line still carries
the marker we started it with, so a recycled pid is never killed.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from core.errors import StackError

# what a service needs of our environment; nothing else is passed on (an exported master secret
# or database password would otherwise sit in Kafka's, PostgreSQL's and the registry's
# /proc/<pid>/environ)
SERVICE_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "JAVA_HOME", "USER")


def service_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The minimal environment for a service, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if k in SERVICE_ENVIRONMENT}
    return {**base, **(extra or {})}


def as_user(user: str | None) -> dict[str, Any]:
    """subprocess arguments that drop to ``user`` with only that user's own group."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


@dataclass(frozen=True)
class ManagedProcess:
    """One long-running service: its pid file, its log, and a marker found in its command line."""

    name: str
    pid_file: Path
    log_file: Path
    marker: str

    def pid(self) -> int | None:
        """The pid of our running process, or None when it is not running."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            cmdline = " ".join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return pid if self.marker in cmdline else None

    def start(
        self,
        argv: list[str],
        env: dict[str, str] | None = None,
        user: str | None = None,
        inherit: bool = False,
    ) -> int:
        """Start ``argv`` in its own session (as ``user`` if given), output appended to the log,
        with the minimal service environment plus ``env`` (with ``inherit``, all of ours: for
        earlylink's own processors, which read their settings from it)."""
        environment = {**os.environ, **(env or {})} if inherit else service_environment(env)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=environment,
                cwd=self.pid_file.parent,
                **as_user(user),
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout_s: float = 30.0, sig: signal.Signals = signal.SIGTERM) -> bool:
        """Send ``sig``, then SIGKILL after ``timeout_s``. True if something was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        try:
            os.kill(pid, sig)
            psutil.Process(pid).wait(timeout=timeout_s)
        except psutil.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
        self.pid_file.unlink(missing_ok=True)
        return True

    def memory_mib(self) -> float | None:
        """Resident memory of the process and its children, in MiB."""
        pid = self.pid()
        if pid is None:
            return None
        try:
            proc = psutil.Process(pid)
            rss = proc.memory_info().rss
            children = proc.children(recursive=True)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        for child in children:  # a child may exit between the listing and the reading
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                rss += child.memory_info().rss
        return rss / 2**20

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the log, for error messages."""
        if not self.log_file.exists():
            return "(no log yet)"
        text = self.log_file.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def run_checked(
    argv: list[str], what: str, timeout_s: float = 900.0, user: str | None = None
) -> str:
    """Run a short command; on failure raise StackError with its output's tail."""
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            cwd="/",
            **as_user(user),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StackError(f"{what} could not run: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise StackError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return str(done.stdout)


def wait_until(
    check: Callable[[], bool], timeout_s: float, what: str, proc: ManagedProcess
) -> None:
    """Poll ``check()`` until true; raise with the log tail if the process dies or time is up."""
    deadline = time.monotonic() + timeout_s
    missing = 0
    while time.monotonic() < deadline:
        if check():
            return
        # gone on two polls running: once, just after a restart, a live registry read as not
        # ours on a single poll (cause not found), and its start was wrongly called failed
        missing = missing + 1 if proc.pid() is None else 0
        if missing >= 2:
            raise StackError(f"{what} exited during start-up. Last log lines:\n{proc.log_tail()}")
        time.sleep(0.5)
    raise StackError(
        f"{what} did not become healthy within {timeout_s:.0f}s. Last log lines:\n{proc.log_tail()}"
    )
