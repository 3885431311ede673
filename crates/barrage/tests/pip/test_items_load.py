"""Load tests through the barrage-load pytest plugin, against examples/fastapi-items.

Run by crates/barrage/tests/wheel.rs in a fresh virtualenv with the wheel installed, as
`pytest -m load --barrage-app app:app -o barrage_app_dir=<the example>`:
three load tests pass and `test_a_threshold_that_cannot_hold_fails` must fail, with the
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


def test_a_newer_result_file_reads():
    # Version 2 adds `windows`; a reader takes what it knows and ignores the rest.
    from barrage_load import Result

    latency = {"count": 4, "min": 1.0, "mean": 2.5, "max": 4.0, "p50": 2.0, "p75": 3.0,
               "p90": 4.0, "p95": 4.0, "p99": 4.0, "p999": 4.0, "p9999": 4.0}
    endpoint = {"scenario": "default", "method": "GET", "name": "/items/{item_id}",
                "requests": 4, "failures": 1, "rps": 2.0, "response_time": latency,
                "service_time": latency, "status_codes": {"200": 3, "500": 1},
                "something_new": [1, 2]}
    result = Result.from_json({
        "version": 2,
        "windows": [{"start_s": 0, "end_s": 10}],
        "run": {"duration_s": 2.0, "new_field": True},
        "endpoints": [endpoint],
        "aggregate": dict(endpoint, method="", name="Aggregated"),
        "thresholds": [{"expr": "error_rate<1%", "metric": "error_rate", "op": "<",
                        "limit": 0.01, "unit": "ratio", "observed": 0.25, "passed": False}],
    })
    items = result.endpoint("get", "/items/{item_id}")
    assert (items.p95_ms, items.mean_ms, items.error_rate) == (4.0, 2.5, 0.25)
    assert items.status_codes == {200: 3, 500: 1}
    assert result.version == 2 and result.duration_s == 2.0
    assert result.failed_thresholds[0].describe() == "error_rate<1%: observed 25 %, limit 1 %"
    with pytest.raises(KeyError, match="no endpoint POST /items/{item_id}"):
        result.endpoint("POST", "/items/{item_id}")
