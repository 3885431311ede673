"""The pytest plugin (entry point ``pytest11``, loaded when barrage-load is installed).

Fixtures:

``barrage``
    A ``Barrage`` bound to the service under test (``barrage_url``), writing its result files
    into the test's ``tmp_path``, taking a relative scenario path from pytest's rootdir: ``barrage.run("scenario.yaml", users=10, duration="5s",
    thresholds=["p95<200ms"])`` or ``barrage.hit("/items/1", requests=500)`` returns a
    ``Result``; a failed threshold fails the test with barrage's summary.
``barrage_url`` (session)
    The base URL under test: ``--barrage-url`` (ini ``barrage_url``, env ``BARRAGE_URL``) for
    a service already running, else the app of ``--barrage-app`` (ini ``barrage_app``)
    started under uvicorn once per session (per worker under pytest-xdist). Override it to
    choose the app in code.
``barrage_serve`` (session)
    ``barrage_serve("app.main:app")`` starts that app (once per session for the same
    app, directory and options) and returns its ``AppServer`` (``.url``); all are stopped at the end.

Tests marked ``@pytest.mark.load`` are skipped unless ``-m`` names ``load`` or
``--barrage-load`` is given, so a plain ``pytest`` stays fast.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional, Tuple

import pytest

from .runner import Barrage
from .server import AppServer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("barrage", "barrage load tests")
    group.addoption(
        "--barrage-app",
        metavar="MODULE:APP",
        help="the ASGI app the barrage fixtures start under uvicorn (ini: barrage_app)",
    )
    group.addoption(
        "--barrage-url",
        metavar="URL",
        help="a service already running: load it instead of starting an app "
        "(ini: barrage_url; env: BARRAGE_URL)",
    )
    group.addoption(
        "--barrage-load",
        action="store_true",
        help="run the tests marked `load` (also run when -m names `load`)",
    )
    parser.addini("barrage_app", "the ASGI app (MODULE:APP) the barrage fixtures start")
    parser.addini("barrage_app_dir", "the directory the app is imported from (default: rootdir)")
    parser.addini("barrage_url", "the base URL of a service already running")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "load: a load test with barrage; skipped unless `-m load` (or --barrage-load) selects it",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if config.getoption("barrage_load") or re.search(r"\bload\b", config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="load test: run it with `-m load` or --barrage-load")
    for item in items:
        if item.get_closest_marker("load") is not None:
            item.add_marker(skip)


def _setting(config: pytest.Config, name: str, env: Optional[str] = None) -> Optional[str]:
    value = config.getoption(name, None) or config.getini(name) or (os.environ.get(env) if env else None)
    return str(value) if value else None


@pytest.fixture(scope="session")
def barrage_serve(
    pytestconfig: pytest.Config,
) -> Iterator[Callable[..., AppServer]]:
    started: Dict[Tuple[str, str, str], AppServer] = {}
    default_dir = _setting(pytestconfig, "barrage_app_dir") or str(pytestconfig.rootpath)

    def serve(app: str, *, app_dir: Optional[str] = None, **options: object) -> AppServer:
        directory = str(Path(pytestconfig.rootpath, app_dir or default_dir))
        # The options are part of the key: the same app with another env or uvicorn
        # options is another server, not the first one handed back.
        key = (app, directory, repr(sorted(options.items())))
        if key not in started:
            started[key] = AppServer(app, app_dir=directory, **options).start()  # type: ignore[arg-type]
        return started[key]

    yield serve
    for server in started.values():
        server.stop()


@pytest.fixture(scope="session")
def barrage_url(pytestconfig: pytest.Config, barrage_serve: Callable[..., AppServer]) -> str:
    url = _setting(pytestconfig, "barrage_url", env="BARRAGE_URL")
    if url:
        return url
    app = _setting(pytestconfig, "barrage_app")
    if app:
        return barrage_serve(app).url
    pytest.fail(
        "barrage: no service to load: set barrage_app = \"app.main:app\" (or barrage_url) in "
        "the pytest configuration, pass --barrage-app/--barrage-url, or override the "
        "barrage_url fixture",
        pytrace=False,
    )


@pytest.fixture
def barrage(barrage_url: str, tmp_path: Path, pytestconfig: pytest.Config) -> Barrage:
    # A failed run's summary is in its LoadTestFailed message; a passed one's in
    # `result.summary`. Scenario paths from the rootdir, as the ini's paths are, so a test
    # does not depend on the directory pytest was started from.
    return Barrage(barrage_url, tmp_path / "barrage", root=pytestconfig.rootpath)
