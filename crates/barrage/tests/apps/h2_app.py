"""The app of crates/barrage/tests/http2.rs: a few routes that exercise what a request step
does (a save, a check on a JSON body, a cookie, a redirect, a slow answer), each counting
the requests it served by the HTTP version the server spoke (`scope["http_version"]`: "2"
or "1.1"), so the test can tell HTTP/2 was used and that barrage's counts equal the app's.

Served by hypercorn (h2c with prior knowledge, and HTTP/2 over TLS by ALPN) and by uvicorn
(HTTP/1.1 only, for the ALPN fallback)."""

import asyncio
from collections import Counter

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

app = FastAPI()
served: Counter = Counter()


def count(request: Request, route: str) -> None:
    served[f"{route} HTTP/{request.scope['http_version']}"] += 1


@app.get("/hello")
async def hello(request: Request, response: Response):
    count(request, "GET /hello")
    response.set_cookie("visited", "yes")
    return {"token": "t-42", "version": request.scope["http_version"]}


@app.post("/echo")
async def echo(request: Request):
    count(request, "POST /echo")
    body = await request.json()
    return {
        "got": body,
        "auth": request.headers.get("authorization"),
        "cookie": request.cookies.get("visited"),
    }


@app.get("/moved")
async def moved(request: Request):
    count(request, "GET /moved")
    return RedirectResponse("/hello", status_code=307)


@app.get("/slow")
async def slow(request: Request, ms: int):
    count(request, "GET /slow")
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}


@app.get("/__barrage/counts")
async def counts():
    return dict(served)
