"""An OTLP/HTTP metrics receiver for the `--otlp` test (crates/barrage/tests/export_otlp.rs).

Decodes each POST to /v1/metrics with the official OpenTelemetry protobuf definitions
(`opentelemetry-proto` from PyPI) and appends what it got to a JSON-lines file, one line per
push: the resource's attributes and, per metric, its name, unit, kind and data points (with
attributes, values, histogram counts and bounds). Anything it cannot decode is answered 400
and written as {"error": ...}, so the test sees it.

    python otlp_receiver.py PORT OUT.jsonl

Listens on 127.0.0.1 only; the test kills it at the end.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)


def attributes(kvs):
    out = {}
    for kv in kvs:
        kind = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, kind) if kind else None
    return out


def number(point):
    kind = point.WhichOneof("value")
    return getattr(point, kind) if kind else None


def metric(m):
    kind = m.WhichOneof("data")
    entry = {"name": m.name, "unit": m.unit, "kind": kind, "points": []}
    data = getattr(m, kind)
    if kind in ("sum", "histogram"):
        entry["temporality"] = data.aggregation_temporality
    if kind == "sum":
        entry["monotonic"] = data.is_monotonic
    for p in data.data_points:
        point = {
            "attributes": attributes(p.attributes),
            "start": p.start_time_unix_nano,
            "time": p.time_unix_nano,
        }
        if kind == "histogram":
            point.update(
                count=p.count,
                sum=p.sum,
                bucket_counts=list(p.bucket_counts),
                bounds=list(p.explicit_bounds),
            )
        else:
            point["value"] = number(p)
        entry["points"].append(point)
    return entry


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        # Readiness, for the test's wait.
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        try:
            if self.path != "/v1/metrics":
                raise ValueError(f"POST to {self.path}, not /v1/metrics")
            ctype = self.headers.get("content-type", "")
            if ctype != "application/x-protobuf":
                raise ValueError(f"content-type {ctype!r}, not application/x-protobuf")
            request = ExportMetricsServiceRequest()
            request.ParseFromString(body)
            line = {
                "resources": [
                    {
                        "attributes": attributes(rm.resource.attributes),
                        "metrics": [metric(m) for sm in rm.scope_metrics for m in sm.metrics],
                    }
                    for rm in request.resource_metrics
                ]
            }
            status, reply = 200, ExportMetricsServiceResponse().SerializeToString()
        except (DecodeError, ValueError) as e:
            line, status, reply = {"error": str(e)}, 400, str(e).encode()
        with open(OUT, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        self.send_response(status)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port, OUT = int(sys.argv[1]), sys.argv[2]
    server = HTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()
