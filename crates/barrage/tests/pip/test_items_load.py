"""Load tests through the barrage-load pytest plugin, against examples/fastapi-items.

Run by crates/barrage/tests/wheel.rs in a fresh virtualenv with the wheel installed, as
`pytest -m load --barrage-app app:app -o barrage_app_dir=<the example>`:
three tests pass and `test_a_threshold_that_cannot_hold_fails` must fail, with the
threshold and its observed value in the report.
"""

import json
import urllib.request
from pathlib import Path

import pytest


def counts(url):
    with urllib.request.urlopen(url + "/__barrage/counts", timeout=10) as r:
        return json.load(r)


@pytest.mark.load
def test_a_bounded_hit_reports_what_the_app_served(barrage, barrage_url):
    before = counts(barrage_url).get("GET /items/{name}", 0)
    result = barrage.hit(
        "/items/widget",
        connections=4,
        requests=300,
        thresholds=["p95<5s", "error_rate<1%"],
    )
    assert result.passed
    items = result.endpoint("GET", "/items/widget")
    assert items.requests == 300
    assert items.failures == 0 and items.error_rate == 0.0
    assert items.status_codes == {200: 300}
    assert 0 < items.min_ms <= items.p50_ms <= items.p95_ms <= items.p99_ms <= items.max_ms
    assert items.p95_ms < 5000
    # The server's side: exactly the requests barrage counted.
    assert counts(barrage_url)["GET /items/{name}"] - before == 300
    verdicts = {t.expr: t for t in result.thresholds}
    assert verdicts["p95<5s"].passed and verdicts["p95<5s"].unit == "ms"
    assert verdicts["p95<5s"].observed == pytest.approx(items.p95_ms, rel=0.01)


@pytest.mark.load
def test_the_example_scenario_runs(barrage):
    scenario = Path(__file__).parent / "scenario.yaml"
    result = barrage.run(scenario, users=10, spawn_rate=100, iterations=20)
    assert result.passed and result.aggregate.failures == 0
    # The scenario's setup logs each of the 10 users in once; each iteration is one task of
    # one request.
    assert result.endpoint("POST", "/login").requests == 10
    tasks = sum(e.requests for e in result.endpoints if e.name != "/login")
    assert tasks == 20


@pytest.mark.load
def test_a_threshold_that_cannot_hold_fails(barrage):
    # No response arrives in under 0 ms: this fails on every machine.
    barrage.hit("/", connections=2, requests=50, thresholds=["p95<0ms"])


@pytest.mark.load
def test_check_false_hands_back_the_failed_result(barrage):
    result = barrage.hit("/", connections=2, requests=50, thresholds=["p95<0ms"], check=False)
    assert not result.passed
    [failed] = result.failed_thresholds
    assert failed.expr == "p95<0ms" and failed.limit == 0 and failed.observed > 0


def test_not_a_load_test():
    pass
