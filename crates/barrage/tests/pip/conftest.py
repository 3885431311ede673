"""Records which `barrage_url` each pytest(-xdist) worker got, for crates/barrage/tests/wheel.rs:
one file per worker (named by PYTEST_XDIST_WORKER, `main` without xdist) in the directory
PIP_TEST_URL_DIR names, holding the URL."""

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _record_barrage_url(request):
    directory = os.environ.get("PIP_TEST_URL_DIR")
    if directory and "barrage_url" in request.fixturenames:
        url = request.getfixturevalue("barrage_url")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        Path(directory, worker).write_text(url)
    yield
