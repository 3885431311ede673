"""An ASGI app under uvicorn on a free loopback port, for the length of a test session.

The app runs in a child process (the launcher in ``_serve.py``), so the load goes
through a real socket to a real server and the app's imports stay out of the test process.
The child binds 127.0.0.1 port 0 itself and reports the port it got: no window in which
another process (another pytest-xdist worker) could take a port between choosing and
binding it, and it works the same on Windows. It exits when its standard input closes, so
a killed test run does not leave servers behind.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Mapping, Optional, Sequence, Union


class AppStartError(RuntimeError):
    """The app did not come up: its import failed, it exited, or it never answered."""


class AppServer:
    """``AppServer("app.main:app", app_dir=...)``: ``start()``, then ``url``; ``stop()``.

    ``app_dir`` is put first on ``sys.path`` and is the server's working directory, as
    ``uvicorn`` does with the directory it is run from.
    """

    def __init__(
        self,
        app: str,
        *,
        app_dir: Union[str, Path] = ".",
        python: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        startup_timeout_s: float = 30.0,
        uvicorn_options: Optional[Mapping[str, object]] = None,
    ):
        self.app = app
        self.app_dir = Path(app_dir).resolve()
        self.python = python or sys.executable
        self.env = dict(env or {})
        self.startup_timeout_s = startup_timeout_s
        self.uvicorn_options = dict(uvicorn_options or {})
        self.port: Optional[int] = None
        self._process: Optional[subprocess.Popen] = None
        self._log: Optional[IO[bytes]] = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise AppStartError(f"{self.app} is not started")
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """What the server printed so far (uvicorn's log and the app's output)."""
        if self._log is None:
            return ""
        self._log.flush()
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def start(self) -> "AppServer":
        self._log = tempfile.NamedTemporaryFile(prefix="barrage-app-", suffix=".log", delete=False)
        # The launcher's source goes by -c: another Python (a venv with uvicorn but not
        # barrage-load) runs it too, and sys.path[0] is then the working directory, as
        # with uvicorn, not this package's directory (whose module names could shadow the
        # app's).
        launcher = Path(__file__).with_name("_serve.py").read_text(encoding="utf-8")
        argv: Sequence[str] = [self.python, "-c", launcher, self.app, repr(self.uvicorn_options)]
        env = {**os.environ, **self.env}
        self._process = subprocess.Popen(
            argv,
            cwd=self.app_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        deadline = time.monotonic() + self.startup_timeout_s
        self.port = self._read_port(deadline)
        self._wait_until_answers(deadline)
        return self

    def _read_port(self, deadline: float) -> int:
        """The child's first line of stdout is its port; read in a thread so the wait is
        bounded on every platform (no select() on Windows pipes)."""
        assert self._process is not None and self._process.stdout is not None
        line: list = []
        reader = threading.Thread(
            target=lambda: line.append(self._process.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(max(0.0, deadline - time.monotonic()))
        text = line[0].decode("ascii", "replace").strip() if line else ""
        if not text.isdigit():
            self.stop()
            raise AppStartError(
                f"{self.app} did not start in {self.app_dir}:\n{self.log().rstrip()}"
            )
        return int(text)

    def _wait_until_answers(self, deadline: float) -> None:
        """Until any HTTP answer to GET / (a 404 is an answer): the socket listens before
        the app has started, so a connection alone proves nothing."""
        assert self._process is not None
        while True:
            if self._process.poll() is not None:
                log = self.log().rstrip()
                self.stop()
                raise AppStartError(f"{self.app} exited before it answered:\n{log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                return
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    log = self.log().rstrip()
                    self.stop()
                    raise AppStartError(
                        f"{self.app} did not answer within {self.startup_timeout_s:g} s:\n{log}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            # Closing stdin asks the launcher for uvicorn's graceful shutdown.
            if process.stdin:
                process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
        log, self._log = self._log, None
        if log is not None:
            log.close()
            os.unlink(log.name)

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
