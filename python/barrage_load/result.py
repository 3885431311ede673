"""barrage's result file as Python objects, with the units in the names (``p95_ms``).

Reads only the fields the plugin hands out and ignores every other one, so a result file
of a newer barrage (a new field, or version 2 with its ``windows``) still reads. The file's
own documentation is the README's "The result file" section; its latencies are in
milliseconds, its rates per second, its error rate a fraction (0.01 is 1 %).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class Latency:
    """One latency distribution (response time or service time), in milliseconds.

    With no timed request (``count == 0``: every request failed before a response, or
    none was sent) every figure is ``float("nan")``, not 0.0: a comparison with NaN is
    always False, so ``assert ep.p95_ms < 150`` fails instead of passing on nothing.
    """

    count: int
    min_ms: float
    mean_ms: float
    max_ms: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Latency":
        count = int(d.get("count") or 0)

        def number(key: str) -> float:
            value = d.get(key)
            return float("nan") if count == 0 or value is None else float(value)

        return cls(
            count=count,
            min_ms=number("min"),
            mean_ms=number("mean"),
            max_ms=number("max"),
            p50_ms=number("p50"),
            p75_ms=number("p75"),
            p90_ms=number("p90"),
            p95_ms=number("p95"),
            p99_ms=number("p99"),
            p999_ms=number("p999"),
        )


@dataclass(frozen=True)
class Endpoint:
    """One endpoint's statistics (or the aggregate's, whose method is empty).

    The ``*_ms`` attributes are the response time's, which counts from when a request was
    due to be sent (see ``service_time`` for the time from when it was sent); NaN when no
    request was timed (see ``Latency``). ``scenario`` is the scenario of a file with several
    (empty otherwise): the same method and name in two scenarios are two endpoints.
    """

    scenario: str
    method: str
    name: str
    requests: int
    failures: int
    rps: float
    response_time: Latency
    service_time: Latency
    status_codes: Dict[int, int]
    bytes_sent: int
    bytes_received: int

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Endpoint":
        return cls(
            scenario=str(d.get("scenario") or ""),
            method=str(d.get("method") or ""),
            name=str(d.get("name") or ""),
            requests=int(d.get("requests") or 0),
            failures=int(d.get("failures") or 0),
            rps=float(d.get("rps") or 0.0),
            response_time=Latency.from_json(d.get("response_time") or {}),
            service_time=Latency.from_json(d.get("service_time") or {}),
            status_codes={int(k): int(v) for k, v in (d.get("status_codes") or {}).items()},
            bytes_sent=int(d.get("bytes_sent") or 0),
            bytes_received=int(d.get("bytes_received") or 0),
        )

    @property
    def error_rate(self) -> float:
        """Failed requests as a fraction of all (0.01 is 1 %), as the threshold of that name."""
        return self.failures / self.requests if self.requests else 0.0

    @property
    def min_ms(self) -> float:
        return self.response_time.min_ms

    @property
    def mean_ms(self) -> float:
        return self.response_time.mean_ms

    @property
    def max_ms(self) -> float:
        return self.response_time.max_ms

    @property
    def p50_ms(self) -> float:
        return self.response_time.p50_ms

    @property
    def p75_ms(self) -> float:
        return self.response_time.p75_ms

    @property
    def p90_ms(self) -> float:
        return self.response_time.p90_ms

    @property
    def p95_ms(self) -> float:
        return self.response_time.p95_ms

    @property
    def p99_ms(self) -> float:
        return self.response_time.p99_ms

    @property
    def p999_ms(self) -> float:
        return self.response_time.p999_ms


@dataclass(frozen=True)
class Threshold:
    """One threshold and its verdict; ``limit`` and ``observed`` are in ``unit`` (``ms``,
    ``ratio``, ``req/s`` or ``count``); ``observed`` is None when there was nothing to
    measure (then ``note`` says why)."""

    expr: str
    metric: str
    op: str
    limit: float
    unit: str
    observed: Optional[float]
    passed: bool
    note: Optional[str]

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Threshold":
        observed = d.get("observed")
        return cls(
            expr=str(d.get("expr") or ""),
            metric=str(d.get("metric") or ""),
            op=str(d.get("op") or ""),
            limit=float(d.get("limit") or 0.0),
            unit=str(d.get("unit") or ""),
            observed=None if observed is None else float(observed),
            passed=bool(d.get("passed")),
            note=d.get("note"),
        )

    def describe(self) -> str:
        """``p95<0ms: observed 3.21 ms, limit 0 ms`` (ratios as percentages)."""
        if self.observed is None:
            seen = "nothing to measure" + (f" ({self.note})" if self.note else "")
        else:
            seen = "observed " + _with_unit(self.observed, self.unit)
        return f"{self.expr}: {seen}, limit {_with_unit(self.limit, self.unit)}"


def _with_unit(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value * 100:g} %"
    if unit == "count":
        return f"{value:g}"
    return f"{value:g} {unit}"


@dataclass(frozen=True)
class Failure:
    """One kind of failure at one endpoint: its category, how often, and one sample."""

    method: str
    name: str
    category: str
    count: int
    sample: str

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Failure":
        return cls(
            method=str(d.get("method") or ""),
            name=str(d.get("name") or ""),
            category=str(d.get("category") or ""),
            count=int(d.get("count") or 0),
            sample=str(d.get("sample") or ""),
        )


@dataclass(frozen=True)
class Result:
    """A run's result: per-endpoint statistics, the aggregate, failures and thresholds.

    ``passed`` is barrage's own verdict (its exit code 0); ``summary`` is what barrage
    printed; ``path`` the result file it wrote; ``raw`` the whole parsed file.
    """

    endpoints: List[Endpoint]
    aggregate: Endpoint
    failures: List[Failure]
    thresholds: List[Threshold]
    duration_s: float
    version: int
    passed: bool = True
    summary: str = ""
    path: Optional[Path] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: Dict[str, Any], **extra: Any) -> "Result":
        return cls(
            endpoints=[Endpoint.from_json(e) for e in d.get("endpoints") or []],
            aggregate=Endpoint.from_json(d.get("aggregate") or {}),
            failures=[Failure.from_json(f) for f in d.get("failures") or []],
            thresholds=[Threshold.from_json(t) for t in d.get("thresholds") or []],
            duration_s=float((d.get("run") or {}).get("duration_s") or 0.0),
            version=int(d.get("version") or 0),
            raw=d,
            **extra,
        )

    @classmethod
    def read(cls, path: "str | Path", **extra: Any) -> "Result":
        """Reads a result file written by ``barrage ... --json PATH``."""
        path = Path(path)
        with path.open(encoding="utf-8") as f:
            return cls.from_json(json.load(f), path=path, **extra)

    def endpoint(self, method: str, name: str, scenario: Optional[str] = None) -> Endpoint:
        """The endpoint named ``name`` (as the summary table shows it) for ``method``, in
        ``scenario`` when given. Raises KeyError when none matches, and ValueError when
        several do (the same request in several scenarios: pass ``scenario=``)."""
        found = [
            e
            for e in self.endpoints
            if e.method.upper() == method.upper()
            and e.name == name
            and (scenario is None or e.scenario == scenario)
        ]
        if len(found) == 1:
            return found[0]
        shown = lambda e: (f"[{e.scenario}] " if e.scenario else "") + f"{e.method} {e.name}"  # noqa: E731
        wanted = (f"[{scenario}] " if scenario is not None else "") + f"{method.upper()} {name}"
        if found:
            raise ValueError(
                f"{wanted} is in {len(found)} scenarios of the result: "
                + ", ".join(repr(e.scenario) for e in found)
                + "; pass scenario= to choose one"
            )
        known = ", ".join(shown(e) for e in self.endpoints) or "none"
        raise KeyError(f"no endpoint {wanted} in the result; it has: {known}")

    @property
    def failed_thresholds(self) -> List[Threshold]:
        return [t for t in self.thresholds if not t.passed]
