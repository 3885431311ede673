"""A FastAPI app instrumented with prometheus-fastapi-instrumentator, as its README shows it:
two endpoints (one with a path parameter, so its handler label is the template
`/items/{item_id}`) and the instrumentator's `/metrics`.

For the Prometheus-scrape tests (crates/barrage/tests/monitor_prometheus.rs and
crates/barrage-monitor/tests/prometheus_source.rs): the request counts the instrumentator
reports per handler must match what was sent.
"""

from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator

app = FastAPI()


@app.get("/fast")
def fast():
    return {"ok": True}


@app.get("/items/{item_id}")
def item(item_id: int):
    return {"id": item_id}


Instrumentator().instrument(app).expose(app)
