"""barrage-load: the barrage load tester as a Python package.

Installing it puts the ``barrage`` command on the environment's PATH (a native binary; this
package does not wrap it for the command line) and registers a pytest plugin
(``barrage_load.pytest_plugin``). From Python, ``Barrage(url, workdir).run(...)`` or
``.hit(...)`` runs it and returns a ``Result`` read from its result file.
"""

from .result import Endpoint, Failure, Latency, Result, Threshold
from .runner import Barrage, BarrageError, LoadTestFailed, find_executable
from .server import AppServer, AppStartError

__all__ = [
    "AppServer",
    "AppStartError",
    "Barrage",
    "BarrageError",
    "Endpoint",
    "Failure",
    "Latency",
    "LoadTestFailed",
    "Result",
    "Threshold",
    "find_executable",
]
