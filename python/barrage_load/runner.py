"""Running barrage from Python: ``run`` a scenario or ``hit`` one URL, and get a ``Result``.

The binary does the work (the wheel installs it beside this package); this module builds
its command line, lets it write its result file into a working directory, and turns its
exit code into the outcome: 0 passed, 1 failed its gate (raised as ``LoadTestFailed``, an
AssertionError, so pytest reports a failed test with barrage's summary), 2 and 3 a mistake
or a run that could not happen (``BarrageError``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Callable, Iterable, List, Mapping, Optional, Sequence, Union

from .result import Result

Duration = Union[str, float, int]


class BarrageError(RuntimeError):
    """barrage could not run: bad usage, a bad scenario, or an environment problem."""


class LoadTestFailed(AssertionError):
    """The run failed barrage's gate: a threshold, or (without thresholds) a failed request.
    ``result`` holds everything measured; the message names each failed threshold with its
    observed value and limit, then barrage's own summary."""

    def __init__(self, result: Result):
        self.result = result
        failed = result.failed_thresholds
        if failed:
            head = "barrage: %d threshold%s failed:\n%s" % (
                len(failed),
                "" if len(failed) == 1 else "s",
                "\n".join("  " + t.describe() for t in failed),
            )
        else:
            head = "barrage: the run failed (%d of %d requests failed)" % (
                result.aggregate.failures,
                result.aggregate.requests,
            )
        super().__init__(head + "\n\n" + result.summary.rstrip())


def find_executable() -> str:
    """The barrage binary: $BARRAGE_EXECUTABLE, else the one installed beside this package
    (the wheel puts it in the environment's scripts directory, which need not be on PATH
    when the venv is not activated), else the first on PATH."""
    chosen = os.environ.get("BARRAGE_EXECUTABLE")
    if chosen:
        return chosen
    name = "barrage.exe" if os.name == "nt" else "barrage"
    for scheme_dir in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(scheme_dir, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("barrage")
    if found:
        return found
    raise BarrageError(
        "cannot find the barrage binary: install it (pip install barrage-load) or set "
        "BARRAGE_EXECUTABLE to its path"
    )


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Optional[Callable[[], None]]:
    """On Linux, a ``preexec_fn`` that has the kernel send barrage SIGKILL when the Python
    that started it dies, so a pytest killed mid-run (kill -9, a CI job cancelled) does not
    leave barrage loading the service. Elsewhere None: barrage then runs to its own end.

    The signal follows the *thread* that started barrage: runs started from a thread that
    ends before barrage does are killed with it."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died between fork and prctl: then nobody would send it.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def _duration(value: Duration) -> str:
    """``"30s"`` as barrage writes it, or a number of seconds."""
    if isinstance(value, (int, float)):
        return f"{round(value * 1000)}ms"
    return str(value)


class Barrage:
    """Runs barrage against ``base_url``, keeping result files in ``workdir``.

    Each call writes ``workdir/barrage-N.json`` and returns its ``Result``; with
    ``check=True`` (the default) a run that fails barrage's gate raises ``LoadTestFailed``.
    A relative scenario path is taken from ``root`` (the pytest fixture gives pytest's
    rootdir), else from the working directory.
    """

    def __init__(
        self,
        base_url: Optional[str],
        workdir: Union[str, Path],
        executable: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        root: Optional[Union[str, Path]] = None,
    ):
        self.base_url = base_url.rstrip("/") if base_url else None
        self.root = Path(root) if root is not None else None
        self.workdir = Path(workdir)
        self.executable = executable
        self.env = dict(env or {})
        self.results: List[Result] = []

    def run(
        self,
        scenario: Union[str, Path],
        *,
        users: Optional[int] = None,
        spawn_rate: Optional[float] = None,
        duration: Optional[Duration] = None,
        iterations: Optional[int] = None,
        rate: Optional[float] = None,
        thresholds: Iterable[str] = (),
        args: Sequence[str] = (),
        check: bool = True,
        timeout_s: float = 600.0,
    ) -> Result:
        """``barrage run SCENARIO`` against the base URL (``-H``), as the flags of that name."""
        __tracebackhide__ = True  # pytest shows the test's line, not this module's
        path = Path(scenario)
        if self.root is not None and not path.is_absolute():
            path = self.root / path
        command = ["run", str(path)]
        if self.base_url:
            command += ["-H", self.base_url]
        for flag, value in (
            ("-u", users),
            ("-r", spawn_rate),
            ("--iterations", iterations),
            ("--rate", rate),
        ):
            if value is not None:
                command += [flag, str(value)]
        if duration is not None:
            command += ["-t", _duration(duration)]
        return self._execute(command, thresholds, args, check, timeout_s)

    def hit(
        self,
        path: str = "/",
        *,
        connections: int = 10,
        requests: Optional[int] = None,
        duration: Optional[Duration] = None,
        method: str = "GET",
        headers: Optional[Mapping[str, str]] = None,
        body: Optional[str] = None,
        rate: Optional[float] = None,
        thresholds: Iterable[str] = (),
        args: Sequence[str] = (),
        check: bool = True,
        timeout_s: float = 600.0,
    ) -> Result:
        """``barrage hit URL``: ``path`` joined to the base URL (or a whole URL); without
        ``requests`` or ``duration``, barrage's default of 200 requests."""
        __tracebackhide__ = True
        if "://" in path:
            url = path
        elif self.base_url:
            url = self.base_url + "/" + path.lstrip("/")
        else:
            raise BarrageError(f"hit {path}: no base URL to join it to; pass a whole URL")
        command = ["hit", url, "-c", str(connections), "-m", method]
        if requests is not None:
            command += ["-n", str(requests)]
        if duration is not None:
            command += ["-d", _duration(duration)]
        if rate is not None:
            command += ["--rate", str(rate)]
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}: {value}"]
        if body is not None:
            command += ["-b", body]
        return self._execute(command, thresholds, args, check, timeout_s)

    def _execute(
        self,
        command: List[str],
        thresholds: Iterable[str],
        args: Sequence[str],
        check: bool,
        timeout_s: float,
    ) -> Result:
        __tracebackhide__ = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        json_path = self.workdir / f"barrage-{len(self.results) + 1}.json"
        argv = [self.executable or find_executable(), *command]
        for t in thresholds:
            argv += ["--threshold", t]
        argv += ["--json", str(json_path), "--only-summary", *args]
        env = {**os.environ, **self.env}
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.PIPE,
                preexec_fn=_die_with_parent(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise BarrageError(f"{' '.join(argv)} did not end within {timeout_s:g} s") from e
        summary = done.stdout.decode("utf-8", "replace")
        if done.returncode not in (0, 1) or not json_path.is_file():
            raise BarrageError(
                f"`{' '.join(argv)}` exited with {done.returncode}:\n{summary.rstrip()}"
            )
        result = Result.read(json_path, passed=done.returncode == 0, summary=summary)
        self.results.append(result)
        if check and not result.passed:
            raise LoadTestFailed(result)
        return result
