"""Unit tests of barrage_load's Result, no barrage run: run by crates/barrage/tests/python_runner.rs
with the repository's python/ on sys.path."""

import math

import pytest

from barrage_load import Result

NO_TIMING = {"count": 0, "min": 0.0, "mean": 0.0, "max": 0.0, "p50": 0.0, "p75": 0.0,
             "p90": 0.0, "p95": 0.0, "p99": 0.0, "p999": 0.0}
TIMED = dict(NO_TIMING, count=3, min=1.0, mean=2.0, max=3.0, p50=2.0, p95=3.0)


def endpoint(scenario, method, name, latency, requests=3, failures=0):
    return {"scenario": scenario, "method": method, "name": name, "requests": requests,
            "failures": failures, "response_time": latency, "service_time": latency}


def test_an_endpoint_with_no_timed_request_has_nan_percentiles():
    # Every request failed before a response: the result file's latencies read 0 with
    # count 0. As 0.0 they would pass `p95_ms < 150`; as NaN every comparison is False.
    failing = endpoint("", "GET", "/down", NO_TIMING, requests=50, failures=50)
    result = Result.from_json({"endpoints": [failing], "aggregate": failing})
    ep = result.endpoint("GET", "/down")
    assert ep.response_time.count == 0
    assert all(math.isnan(v) for v in (ep.p50_ms, ep.p95_ms, ep.p99_ms, ep.min_ms, ep.max_ms))
    with pytest.raises(AssertionError):
        assert ep.p95_ms < 150
    assert ep.error_rate == 1.0


def test_a_timed_endpoint_keeps_its_figures():
    result = Result.from_json({"endpoints": [endpoint("", "GET", "/up", TIMED)]})
    ep = result.endpoint("GET", "/up")
    assert (ep.p95_ms, ep.min_ms, ep.mean_ms) == (3.0, 1.0, 2.0)


def test_the_same_request_in_two_scenarios_needs_the_scenario():
    result = Result.from_json({"endpoints": [
        endpoint("shop", "GET", "/items", TIMED),
        endpoint("admin", "GET", "/items", dict(TIMED, p95=9.0)),
    ]})
    with pytest.raises(ValueError, match="pass scenario="):
        result.endpoint("GET", "/items")
    assert result.endpoint("GET", "/items", scenario="admin").p95_ms == 9.0
    assert result.endpoint("get", "/items", scenario="shop").scenario == "shop"
    with pytest.raises(KeyError, match=r"no endpoint \[web\] GET /items"):
        result.endpoint("GET", "/items", scenario="web")
