"""A small FastAPI items service to point barrage at.

It serves the API of the Locust quick-start (GET /, GET /items/{name}, POST /items/, POST
/login) and counts the requests it serves per route, so that a test can compare barrage's
per-endpoint counts with the server's own: GET /__barrage/counts (not counted itself).
barrage's built-in demo target (crates/barrage-target) serves the same API with
the same answers.

Run it with one worker:  uvicorn app:app --port 8000
"""

import itertools
import json
import secrets
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.routing import Match

COUNTS_PATH = "/__barrage/counts"

app = FastAPI(title="barrage example: items")

# Requests served per route key ("GET /items/{name}"): method and path template, never the
# concrete path, so the keys stay few whatever names the load uses.
#
# A plain dict without a lock is safe here: uvicorn runs one worker process with one event
# loop, the handlers are async (so none runs in a thread pool), and an increment does not
# await, so no two increments interleave. Started with --workers N, each process would keep
# counts of its own and this endpoint would report one process's share.
counts: dict[str, int] = {}

_item_ids = itertools.count(1)


class Item(BaseModel):
    name: str
    price: float


class Credentials(BaseModel):
    username: str
    password: str


def price_of(name: str) -> float:
    """The price of an item that was never created, derived from its name by 32-bit FNV-1a
    (the demo target's `price_of` computes the same), so one name always has one price."""
    h = 0x811C9DC5
    for byte in name.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return (h % 10_000) / 100


@app.get("/")
async def root():
    return {"message": "Hello World"}


@app.get("/items/{name}")
async def read_item(name: str):
    # Any name is an item: a load test reading "Item 1".."Item 100" never gets a 404.
    return {"name": name, "price": price_of(name)}


@app.post("/items/", status_code=201)
async def create_item(item: Item):
    return {"id": next(_item_ids), "name": item.name, "price": item.price}


_CREDENTIALS_SCHEMA = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
}


@app.post(
    "/login",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _CREDENTIALS_SCHEMA},
                "application/x-www-form-urlencoded": {"schema": _CREDENTIALS_SCHEMA},
            },
        }
    },
)
async def login(request: Request):
    # JSON or an HTML form. The form is parsed here rather than with FastAPI's Form(), which
    # would need python-multipart for one urlencoded body.
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            data = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        else:
            data = json.loads(body)
        credentials = Credentials.model_validate(data)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ]
        )
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        )
    # Any credentials are accepted: the example has no users, only a login step to exercise.
    return {"access_token": secrets.token_hex(16), "token_type": "bearer"}


@app.get(COUNTS_PATH, include_in_schema=False)
async def served_counts():
    return counts


def _counted_routes():
    return [r for r in app.routes if isinstance(r, APIRoute) and r.path != COUNTS_PATH]


class CountRequests:
    """ASGI middleware: counts each request that matches one of the API's routes under that
    route's key, when its response starts, so that a client holding a response always finds
    it counted. Unmatched requests (404, 405), /docs, /openapi.json and the counts path
    itself are not counted. Matching here, with the router's own `matches`, gives the route
    template before the app runs, whatever the app then answers (422 included)."""

    def __init__(self, asgi_app):
        self.app = asgi_app

    async def __call__(self, scope, receive, send):
        key = None
        if scope["type"] == "http":
            for route in _counted_routes():
                match, _ = route.matches(scope)
                if match == Match.FULL:
                    key = f"{scope['method']} {route.path}"
                    break
        if key is None:
            return await self.app(scope, receive, send)

        async def counting_send(message):
            if message["type"] == "http.response.start":
                counts[key] = counts.get(key, 0) + 1
            await send(message)

        await self.app(scope, receive, counting_send)


app.add_middleware(CountRequests)


# Every counted route is listed from the start, zero or not, as the demo target does.
for _route in _counted_routes():
    for _method in sorted(_route.methods):
        counts[f"{_method} {_route.path}"] = 0
