#!/usr/bin/env python3
"""What a long run's result file and HTML report weigh, measured from a real short run.

    python3 scripts/report_size.py RESULT.json [BARRAGE]

RESULT.json should come from a run of 10 seconds (`barrage run ... -t 10s --json RESULT.json`):
its whole-run response-time histograms then stand for one 10-second window each. The script
builds one hour of that run (its seconds repeated 360 times over, its histograms as 360
windows per endpoint with traffic), writes it beside RESULT.json, has `barrage report --html`
turn it into a report, and prints the bytes per endpoint-hour and per hour of both, and what
a 24-hour run with 50 endpoints would weigh. Standard library only.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

HOUR = 3600
WINDOW = 10


def hour_long(doc):
    """The document stretched to one hour: series repeated, one window per 10 s."""
    seconds = doc["series"]
    if not seconds:
        sys.exit("the result has no series: run for at least a few seconds")
    out = copy.deepcopy(doc)
    series = []
    for k in range(HOUR):
        s = copy.deepcopy(seconds[k % len(seconds)])
        s["t"] = float(k + 1)
        series.append(s)
    out["series"] = series
    hist = doc["histograms"]

    def entry(stats, h):
        return {
            "requests": stats["requests"],
            "failures": stats["failures"],
            "response_time": h["response_time"],
        }

    active = [
        (i, e) for i, e in enumerate(doc["endpoints"]) if e["requests"] > 0
    ]
    out["windows"] = [
        {
            "start": 1_700_000_000 + WINDOW * w,
            "t": float(WINDOW * (w + 1)),
            "aggregate": entry(doc["aggregate"], hist["aggregate"]),
            "endpoints": [
                dict(entry(e, hist["endpoints"][i]), i=i) for i, e in active
            ],
        }
        for w in range(HOUR // WINDOW)
    ]
    out["run"]["duration_s"] = float(HOUR)
    return out, len(active)


def without_endpoints(doc):
    """The same hour with no per-endpoint entries in the series or the windows."""
    out = copy.deepcopy(doc)
    for s in out["series"]:
        s["endpoints"] = []
    for w in out["windows"]:
        w["endpoints"] = []
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    barrage = sys.argv[2] if len(sys.argv) > 2 else "barrage"
    with open(path) as f:
        doc = json.load(f)
    empty = copy.deepcopy(doc)
    empty["series"], empty["windows"] = [], []
    long_doc, endpoints = hour_long(doc)
    versions = (
        ("empty", empty),
        ("aggregate", without_endpoints(long_doc)),
        ("hour", long_doc),
    )
    sizes = {}
    with tempfile.TemporaryDirectory() as d:
        for name, version in versions:
            j = os.path.join(d, f"{name}.json")
            h = os.path.join(d, f"{name}.html")
            with open(j, "w") as f:
                json.dump(version, f, indent=2)
            subprocess.run(
                [barrage, "report", j, "--html", h],
                check=True,
                stderr=subprocess.DEVNULL,
            )
            sizes[name] = (os.path.getsize(j), os.path.getsize(h))
    print(f"measured on {path}: {endpoints} endpoints with traffic, stretched to one hour")
    for k, what in enumerate(("result file", "HTML report")):
        base = sizes["empty"][k]
        fixed = sizes["aggregate"][k] - base
        per_endpoint = (sizes["hour"][k] - sizes["aggregate"][k]) / endpoints
        day_50 = base + 24 * (fixed + 50 * per_endpoint)
        print(
            f"{what}: {base:,} B fixed, {fixed:,} B per hour (aggregate series and windows), "
            f"{per_endpoint:,.0f} B per endpoint-hour; "
            f"24 h with 50 endpoints: {day_50 / 1e6:,.1f} MB"
        )


if __name__ == "__main__":
    main()
