"""A FastAPI app whose GET /burn spends a few milliseconds of CPU per request, beside a
GET /ok that costs nothing.

Served by uvicorn with `--workers 2` (a master and two worker processes), it is what the
process monitor must find by port and see busy under load (tests/monitor_process.rs).
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/ok")
def ok():
    return {"ok": True}


@app.get("/burn")
def burn():
    # About 2-5 ms of pure-Python arithmetic, in the worker's thread pool.
    total = 0
    for i in range(50_000):
        total += i * i
    return {"total": total}
